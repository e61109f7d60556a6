using Grpc.Core;
using Grpc.Net.Client;

namespace Veltrix.ServiceDefaults;

/// <summary>
/// One gRPC channel per resolver address of the <see cref="PartitionMap"/>, created once and shared by every
/// call (a channel holds the HTTP/2 connections; creating one per call would reconnect per call).
/// </summary>
public sealed class ResolverChannels : IDisposable
{
    private readonly CallInvoker[] _invokers;
    private readonly GrpcChannel[] _distinct;

    public ResolverChannels(PartitionMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        Map = map;
        _invokers = new CallInvoker[map.InstanceCount];
        var byAddress = new Dictionary<string, GrpcChannel>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _invokers.Length; i++)
        {
            var address = map.AddressOf(i);
            if (!byAddress.TryGetValue(address, out var channel))
            {
                channel = MeshChannel.Create(address);
                byAddress[address] = channel;
            }
            _invokers[i] = channel.CreateCallInvoker();
        }
        _distinct = [.. byAddress.Values];
    }

    public PartitionMap Map { get; }

    /// <summary>The channel to resolver instance <paramref name="ordinal"/>.</summary>
    public CallInvoker ForOrdinal(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, _invokers.Length);
        return _invokers[ordinal];
    }

    /// <summary>The channel to the instance that owns <paramref name="partition"/>.</summary>
    public CallInvoker ForPartition(int partition) => ForOrdinal(Map.OwnerOf(partition));

    public void Dispose()
    {
        foreach (var channel in _distinct)
        {
            channel.Dispose();
        }
    }
}
