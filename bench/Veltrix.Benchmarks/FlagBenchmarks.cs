using BenchmarkDotNet.Attributes;
using Veltrix.Domain;

namespace Veltrix.Benchmarks;

/// <summary>
/// Flag evaluation as the rules call it on every teleport and dig: the defaults alone, and a version with
/// a global rollout, a time window and per-world overrides of every flag (the rollout bucket hashed from
/// the player id). Per call.
/// </summary>
[MemoryDiagnoser]
public class FlagBenchmarks
{
    private const long T0 = 1_700_000_000_000;
    private readonly FlagSet _defaults = FlagSet.Defaults();
    private readonly FlagSet _rules = new(7, [
        new FlagRule(FlagName.TeleportEnabled, 0, RolloutPct: 30),
        new FlagRule(FlagName.TeleportCooldownMs, 250, World: "bench", FromMs: T0, ToMs: T0 + 60_000),
        new FlagRule(FlagName.ScoreMultiplierPct, 200, World: "bench", RolloutPct: 50),
        new FlagRule(FlagName.ScoreMultiplierPct, 150, World: "other"),
    ]);

    [Benchmark(Baseline = true)]
    public long DefaultsOnly() => _defaults.Evaluate(FlagName.ScoreMultiplierPct, "bench", "player-42", T0 + 1_000);

    [Benchmark]
    public long WorldRuleWithRollout() => _rules.Evaluate(FlagName.ScoreMultiplierPct, "bench", "player-42", T0 + 1_000);

    [Benchmark]
    public bool GlobalRolloutAndWindow() =>
        _rules.IsEnabled(FlagName.TeleportEnabled, "bench", "player-42", T0 + 1_000)
        && _rules.Evaluate(FlagName.TeleportCooldownMs, "bench", "player-42", T0 + 1_000) > 0;
}
