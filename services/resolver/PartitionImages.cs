using Google.Protobuf;
using Veltrix.Contracts.Storage;
using Veltrix.Domain;
using DomainPlayerImage = Veltrix.Domain.PlayerImage;
using PlayerImageMessage = Veltrix.Contracts.Storage.PlayerImage;

namespace Veltrix.Resolver;

/// <summary>A partition's state to and from its snapshot bytes. Ordered by id throughout, so equal
/// states give equal bytes.</summary>
public static class PartitionImages
{
    public static byte[] Capture(PartitionState state, long position) => Image(state, position).ToByteArray();

    /// <summary>
    /// The snapshot bytes in a buffer rented from the shared pool (the caller returns it): images of busy
    /// partitions are megabytes, and a fresh array each time went to the large-object heap and brought on
    /// gen2 collections.
    /// </summary>
    public static (byte[] Buffer, int Length) CapturePooled(PartitionState state, long position)
    {
        var image = Image(state, position);
        var length = image.CalculateSize();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        image.WriteTo(buffer.AsSpan(0, length));
        return (buffer, length);
    }

    private static PartitionImage Image(PartitionState state, long position)
    {
        var image = new PartitionImage
        {
            Partition = (uint)state.Id,
            Position = (ulong)position,
            Flags = ToImage(state.Flags),
            MaxStampMs = state.MaxStampMs,
        };
        image.Rollbacks.AddRange(state.Rollbacks);
        var worlds = state.Worlds.ToArray();
        Array.Sort(worlds, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (var world in worlds)
        {
            image.Worlds.Add(CaptureWorld(world));
        }
        return image;
    }

    /// <summary>One world's whole state, players and treasures ordered by id.</summary>
    public static WorldImage CaptureWorld(World world)
    {
        var w = new WorldImage { WorldId = world.Id };
        var players = world.Players.ToArray();
        Array.Sort(players, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (var p in players)
        {
            var m = new PlayerImageMessage
            {
                Id = p.Id,
                X = p.X,
                Y = p.Y,
                Score = p.Score,
                ScoreReachedAtMs = p.ScoreReachedAtMs,
                LastSeq = p.LastSeq,
                Joined = p.Joined,
                Online = p.Online,
                LastClientTimeMs = p.LastClientTimeMs,
                LastMotionClientTimeMs = p.LastMotionClientTimeMs,
            };
            if (p.LastTeleportStampMs is { } teleported)
            {
                m.LastTeleportStampMs = teleported;
            }
            w.Players.Add(m);
        }
        var treasures = world.AllTreasures.ToArray();
        Array.Sort(treasures, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (var t in treasures)
        {
            w.Treasures.Add(new TreasureImage { Id = t.Id, X = t.X, Y = t.Y, Value = t.Value, ClaimedBy = t.ClaimedBy ?? "" });
        }
        return w;
    }

    /// <summary>A world rebuilt from its image.</summary>
    public static World RestoreWorld(WorldImage w)
    {
        var world = new World(w.WorldId, WorldRules.Default);
        foreach (var p in w.Players)
        {
            world.RestorePlayer(new DomainPlayerImage(
                p.Id, p.X, p.Y, p.Score, p.ScoreReachedAtMs, p.LastSeq, p.Joined, p.Online,
                p.LastClientTimeMs, p.LastMotionClientTimeMs,
                p.HasLastTeleportStampMs ? p.LastTeleportStampMs : null));
        }
        foreach (var t in w.Treasures)
        {
            world.RestoreTreasure(t.Id, t.X, t.Y, t.Value, t.ClaimedBy.Length == 0 ? null : t.ClaimedBy);
        }
        return world;
    }

    public static void Restore(PartitionState state, ReadOnlySpan<byte> bytes) => Restore(state, PartitionImage.Parser.ParseFrom(bytes));

    public static void Restore(PartitionState state, PartitionImage image)
    {
        if (image.Partition != state.Id)
        {
            throw new InvalidDataException($"snapshot is of partition {image.Partition}, not {state.Id}");
        }
        state.Flags = image.Flags is null ? FlagSet.Defaults() : FromImage(image.Flags);
        state.MaxStampMs = image.MaxStampMs;
        state.Rollbacks.AddRange(image.Rollbacks);
        foreach (var w in image.Worlds)
        {
            if (!state.PutWorld(RestoreWorld(w)))
            {
                throw new InvalidDataException($"snapshot has more worlds than this partition may hold ({state.Options.MaxWorldsPerPartition})");
            }
        }
    }

    public static FlagSetImage ToImage(FlagSet flags)
    {
        var image = new FlagSetImage { Version = flags.Version };
        foreach (var r in flags.Rules)
        {
            image.Rules.Add(new FlagRuleImage
            {
                Flag = (uint)r.Flag,
                Value = r.Value,
                World = r.World ?? "",
                RolloutPct = (uint)r.RolloutPct,
                FromMs = r.FromMs,
                ToMs = r.ToMs,
            });
        }
        return image;
    }

    public static FlagSet FromImage(FlagSetImage image)
    {
        var rules = new List<FlagRule>(image.Rules.Count);
        foreach (var r in image.Rules)
        {
            rules.Add(new FlagRule((FlagName)r.Flag, r.Value, r.World.Length == 0 ? null : r.World, (int)r.RolloutPct, r.FromMs, r.ToMs));
        }
        return new FlagSet(image.Version, rules);
    }
}
