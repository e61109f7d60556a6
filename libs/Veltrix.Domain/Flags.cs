namespace Veltrix.Domain;

/// <summary>The behaviour switches operators turn per world, per share of players and per time window.</summary>
public enum FlagName : byte
{
    /// <summary>1 allows Teleport, 0 refuses it.</summary>
    TeleportEnabled = 0,

    /// <summary>Stamp-time milliseconds between two teleports of a player.</summary>
    TeleportCooldownMs = 1,

    /// <summary>A dig scores value × this / 100.</summary>
    ScoreMultiplierPct = 2,
}

/// <summary>
/// One override: <see cref="Flag"/> takes <see cref="Value"/> in <see cref="World"/> (every world when
/// null), for the players whose stable hash falls in the first <see cref="RolloutPct"/> percent, for
/// stamps in [<see cref="FromMs"/>, <see cref="ToMs"/>).
/// </summary>
public sealed record FlagRule(
    FlagName Flag,
    long Value,
    string? World = null,
    int RolloutPct = 100,
    long FromMs = long.MinValue,
    long ToMs = long.MaxValue);

/// <summary>
/// One numbered version of the flags. Immutable, so a batch applied under version N and its replay
/// years later see the same answers. Evaluation allocates nothing: rules sit in arrays per flag, world
/// overrides in a dictionary keyed by world id. The last matching rule wins, world rules after global ones.
/// </summary>
public sealed class FlagSet
{
    private const int FlagCount = 3;
    private readonly long[] _defaults = new long[FlagCount];
    private readonly FlagRule[][] _global = new FlagRule[FlagCount][];
    private readonly Dictionary<string, FlagRule[]>[] _perWorld = new Dictionary<string, FlagRule[]>[FlagCount];

    public FlagSet(long version, IReadOnlyList<FlagRule> rules, WorldRules? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        Version = version;
        Rules = [.. rules];
        defaults ??= WorldRules.Default;
        _defaults[(int)FlagName.TeleportEnabled] = defaults.TeleportEnabled ? 1 : 0;
        _defaults[(int)FlagName.TeleportCooldownMs] = defaults.TeleportCooldownMs;
        _defaults[(int)FlagName.ScoreMultiplierPct] = defaults.ScoreMultiplierPct;

        for (var f = 0; f < FlagCount; f++)
        {
            var global = new List<FlagRule>();
            var perWorld = new Dictionary<string, List<FlagRule>>(StringComparer.Ordinal);
            foreach (var rule in Rules)
            {
                Validate(rule);
                if ((int)rule.Flag != f)
                {
                    continue;
                }
                if (rule.World is null)
                {
                    global.Add(rule);
                }
                else
                {
                    if (!perWorld.TryGetValue(rule.World, out var list))
                    {
                        perWorld[rule.World] = list = [];
                    }
                    list.Add(rule);
                }
            }
            _global[f] = [.. global];
            _perWorld[f] = new Dictionary<string, FlagRule[]>(StringComparer.Ordinal);
            foreach (var (world, list) in perWorld)
            {
                _perWorld[f][world] = [.. list];
            }
        }
    }

    /// <summary>Version 0: no overrides, the world defaults.</summary>
    public static FlagSet Defaults(WorldRules? defaults = null) => new(0, [], defaults);

    public long Version { get; }

    public IReadOnlyList<FlagRule> Rules { get; }

    public long Evaluate(FlagName flag, string worldId, string playerId, long stampMs)
    {
        var f = (int)flag;
        var value = _defaults[f];
        var bucket = -1;
        foreach (var rule in _global[f])
        {
            if (Matches(rule, playerId, stampMs, ref bucket))
            {
                value = rule.Value;
            }
        }
        if (_perWorld[f].TryGetValue(worldId, out var rules))
        {
            foreach (var rule in rules)
            {
                if (Matches(rule, playerId, stampMs, ref bucket))
                {
                    value = rule.Value;
                }
            }
        }
        return value;
    }

    public bool IsEnabled(FlagName flag, string worldId, string playerId, long stampMs) =>
        Evaluate(flag, worldId, playerId, stampMs) != 0;

    /// <summary>The player's rollout bucket, 0..99: stable across processes, releases and flag versions.</summary>
    public static int RolloutBucket(string playerId) => (int)(Partitioning.StableHash(playerId, 0x5bd1e995) % 100);

    private static bool Matches(FlagRule rule, string playerId, long stampMs, ref int bucket)
    {
        if (stampMs < rule.FromMs || stampMs >= rule.ToMs)
        {
            return false;
        }
        if (rule.RolloutPct >= 100)
        {
            return true;
        }
        if (bucket < 0)
        {
            bucket = RolloutBucket(playerId);
        }
        return bucket < rule.RolloutPct;
    }

    private static void Validate(FlagRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (!Enum.IsDefined(rule.Flag))
        {
            throw new ArgumentException($"unknown flag {(int)rule.Flag}", nameof(rule));
        }
        if (rule.World is not null && !EventValidator.IsValidId(rule.World))
        {
            throw new ArgumentException($"flag rule names an invalid world '{rule.World}'", nameof(rule));
        }
        if (rule.RolloutPct is < 0 or > 100)
        {
            throw new ArgumentException("rollout must be 0..100 percent", nameof(rule));
        }
        if (rule.FromMs >= rule.ToMs)
        {
            throw new ArgumentException("a flag rule's window must end after it starts", nameof(rule));
        }
        if (rule.Flag == FlagName.TeleportCooldownMs && rule.Value < 0)
        {
            throw new ArgumentException("teleport cooldown cannot be negative", nameof(rule));
        }
        if (rule.Flag == FlagName.ScoreMultiplierPct && rule.Value is < 0 or > 100_000)
        {
            throw new ArgumentException("score multiplier must be 0..100000 percent", nameof(rule));
        }
    }
}
