using System.Globalization;
using Microsoft.Extensions.Options;

namespace Veltrix.ServiceDefaults;

/// <summary>
/// Which resolver instance owns which partition: partition <c>p</c> belongs to ordinal
/// <c>p % InstanceCount</c>. Every router (ingest, spawn-timer), the leaderboard and the resolvers derive it
/// from the same <see cref="MeshOptions"/>, so they agree without talking to each other. The map is static:
/// changing the instance count moves partitions, which needs their logs moved too.
/// </summary>
public sealed class PartitionMap
{
    private readonly string[] _addresses;

    /// <summary>Builds the map; throws <see cref="ArgumentException"/> when <paramref name="mesh"/> is not a valid map.</summary>
    public PartitionMap(MeshOptions mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        if (Validate(mesh) is { } error)
        {
            throw new ArgumentException(error, nameof(mesh));
        }
        _addresses = [.. InstanceAddresses(mesh)];
        Partitions = mesh.Partitions;
    }

    /// <summary>Partitions the worlds are spread over.</summary>
    public int Partitions { get; }

    /// <summary>Resolver instances; between 1 and <see cref="Partitions"/>.</summary>
    public int InstanceCount => _addresses.Length;

    /// <summary>The ordinal of the instance that owns <paramref name="partition"/>.</summary>
    public int OwnerOf(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, Partitions);
        return partition % _addresses.Length;
    }

    /// <summary>The gRPC address of instance <paramref name="ordinal"/>.</summary>
    public string AddressOf(int ordinal)
    {
        CheckOrdinal(ordinal);
        return _addresses[ordinal];
    }

    /// <summary>The partitions instance <paramref name="ordinal"/> owns, ascending.</summary>
    public IReadOnlyList<int> PartitionsOf(int ordinal)
    {
        CheckOrdinal(ordinal);
        var owned = new List<int>((Partitions + _addresses.Length - 1) / _addresses.Length);
        for (var p = ordinal; p < Partitions; p += _addresses.Length)
        {
            owned.Add(p);
        }
        return owned;
    }

    /// <summary>
    /// Who this resolver instance is: <paramref name="configured"/> when set; otherwise, with more than one
    /// instance, the trailing <c>-N</c> of <paramref name="hostName"/> (a StatefulSet pod is named
    /// <c>veltrix-resolver-2</c>); otherwise 0. With a single instance the host name is not consulted, so a
    /// machine that happens to be called <c>build-7</c> still runs the one resolver. Throws
    /// <see cref="ArgumentException"/> when the ordinal is not an instance of this map.
    /// </summary>
    public int ResolveOrdinal(int? configured, string? hostName)
    {
        if (configured is { } ordinal)
        {
            if (ordinal < 0 || ordinal >= _addresses.Length)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"resolver ordinal {ordinal} is not one of the {_addresses.Length} instance(s) of {MeshOptions.Section}:Resolvers"), nameof(configured));
            }
            return ordinal;
        }
        if (_addresses.Length == 1 || !TryParseOrdinal(hostName, out ordinal))
        {
            return 0;
        }
        if (ordinal >= _addresses.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"host name '{hostName}' makes this resolver instance {ordinal}, but {MeshOptions.Section}:Resolvers lists {_addresses.Length}"), nameof(hostName));
        }
        return ordinal;
    }

    /// <summary>The trailing <c>-N</c> of a host name (<c>veltrix-resolver-2</c> is 2); false when there is none.</summary>
    public static bool TryParseOrdinal(string? hostName, out int ordinal)
    {
        ordinal = 0;
        if (string.IsNullOrEmpty(hostName))
        {
            return false;
        }
        var dash = hostName.LastIndexOf('-');
        if (dash < 0 || dash == hostName.Length - 1)
        {
            return false;
        }
        var digits = hostName.AsSpan(dash + 1);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ordinal);
    }

    /// <summary>The resolver addresses, index = ordinal: <see cref="MeshOptions.Resolvers"/>, or <see cref="MeshOptions.Resolver"/> alone.</summary>
    public static IReadOnlyList<string> InstanceAddresses(MeshOptions mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        return mesh.Resolvers is { Count: > 0 } listed ? listed : [mesh.Resolver];
    }

    /// <summary>Why <paramref name="mesh"/> is not a valid map, or null when it is.</summary>
    public static string? Validate(MeshOptions mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var addresses = InstanceAddresses(mesh);
        if (mesh.Partitions < 1)
        {
            return $"{MeshOptions.Section}:Partitions must be at least 1";
        }
        if (addresses.Count > mesh.Partitions)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{MeshOptions.Section}:Resolvers lists {addresses.Count} instances for {mesh.Partitions} partitions; an instance without a partition would serve nothing");
        }
        var key = mesh.Resolvers is { Count: > 0 } ? MeshOptions.Section + ":Resolvers:" : MeshOptions.Section + ":Resolver";
        for (var i = 0; i < addresses.Count; i++)
        {
            if (!Uri.TryCreate(addresses[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                var name = mesh.Resolvers is { Count: > 0 } ? key + i.ToString(CultureInfo.InvariantCulture) : key;
                return $"{name} must be an absolute http(s) address, got '{addresses[i]}'";
            }
        }
        return null;
    }

    private void CheckOrdinal(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, _addresses.Length);
    }
}

/// <summary>Refuses a <see cref="MeshOptions"/> whose resolver instances do not form a <see cref="PartitionMap"/>.</summary>
public sealed class PartitionMapValidator : IValidateOptions<MeshOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshOptions options) =>
        PartitionMap.Validate(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
