using System.Text.Json;
using System.Text.Json.Serialization;
using Veltrix.Domain;

namespace Veltrix.Resolver.Flags;

/// <summary>
/// The flags file operators edit (embedded mode). Example:
/// <code>{ "version": 4, "rules": [ { "flag": "teleport.enabled", "value": 0, "world": "arena", "rolloutPct": 50,
///   "fromMs": 1767225600000, "toMs": 1767312000000 } ] }</code>
/// </summary>
public sealed record FlagFile
{
    public long Version { get; set; }
    public List<FlagFileRule> Rules { get; set; } = [];

    public static readonly IReadOnlyDictionary<string, FlagName> Names = new Dictionary<string, FlagName>(StringComparer.Ordinal)
    {
        ["teleport.enabled"] = FlagName.TeleportEnabled,
        ["teleport.cooldown_ms"] = FlagName.TeleportCooldownMs,
        ["score.multiplier_pct"] = FlagName.ScoreMultiplierPct,
    };

    /// <summary>Parses and validates a flags file; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static FlagSet Parse(ReadOnlySpan<byte> json, WorldRules defaults)
    {
        FlagFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, FlagFileJson.Default.FlagFile);
        }
        catch (JsonException ex)
        {
            throw new FormatException("flags file is not valid JSON: " + ex.Message, ex);
        }
        if (file is null || file.Version < 1)
        {
            throw new FormatException("flags file needs a version of at least 1");
        }
        var rules = new List<FlagRule>(file.Rules.Count);
        foreach (var r in file.Rules)
        {
            if (r.Flag is null || !Names.TryGetValue(r.Flag, out var name))
            {
                throw new FormatException($"unknown flag '{r.Flag}'; known: {string.Join(", ", Names.Keys)}");
            }
            rules.Add(new FlagRule(name, r.Value, r.World, r.RolloutPct ?? 100, r.FromMs ?? long.MinValue, r.ToMs ?? long.MaxValue));
        }
        try
        {
            return new FlagSet(file.Version, rules, defaults);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
    }
}

public sealed record FlagFileRule
{
    public string? Flag { get; set; }
    public long Value { get; set; }
    public string? World { get; set; }
    public int? RolloutPct { get; set; }
    public long? FromMs { get; set; }
    public long? ToMs { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(FlagFile))]
internal sealed partial class FlagFileJson : JsonSerializerContext;
