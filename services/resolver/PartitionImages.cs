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
    /// The snapshot bytes in a buffer rented from the shared pool (the caller returns it), the same bytes as
    /// <see cref="Capture"/>: <see cref="PartitionCopy.Take"/> then <see cref="Write"/>.
    /// </summary>
    public static (byte[] Buffer, int Length) CapturePooled(PartitionState state, long position)
    {
        using var copy = PartitionCopy.Take(state);
        return Write(copy, position);
    }

    /// <summary>
    /// Encodes a copy of a partition's state as its snapshot, into a buffer rented from the shared pool (the
    /// caller returns it): the bytes the generated serializer writes for <see cref="Capture"/>'s image, without a
    /// message per player or treasure (at a million players those were a burst of allocations the GC then
    /// traced through the whole heap). Sorts the copy's worlds, players and treasures by id; runs off the loop.
    /// </summary>
    public static (byte[] Buffer, int Length) Write(PartitionCopy copy, long position)
    {
        ArgumentNullException.ThrowIfNull(copy);
        copy.Sort();
        // The parts that are small whatever the state (flags, rollback marks) go through their messages.
        var head = new PartitionImage
        {
            Partition = copy.Partition,
            Position = (ulong)position,
            Flags = copy.Flags,
            MaxStampMs = copy.MaxStampMs,
        };
        head.Rollbacks.AddRange(copy.Rollbacks);
        var size = head.CalculateSize();
        foreach (var world in copy.Worlds)
        {
            var worldSize = WorldSize(world);
            size += 1 + CodedOutputStream.ComputeLengthSize(worldSize) + worldSize;
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
        var output = new CodedOutputStream(buffer);
        // Field order as the generated serializer writes it: 1 partition, 2 position, 3 worlds, 4 flags, 5, 6.
        if (head.Partition != 0)
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteUInt32(head.Partition);
        }
        if (head.Position != 0)
        {
            output.WriteTag(2, WireFormat.WireType.Varint);
            output.WriteUInt64(head.Position);
        }
        foreach (var world in copy.Worlds)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            WriteWorld(output, world);
        }
        head.Partition = 0;
        head.Position = 0;
        head.WriteTo(output);
        output.Flush();
        return (buffer, (int)output.Position);
    }

    private static int WorldSize(WorldCopy world)
    {
        var size = world.Id.Length == 0 ? 0 : 1 + CodedOutputStream.ComputeStringSize(world.Id);
        foreach (ref readonly var p in world.Players)
        {
            var player = PlayerSize(p);
            size += 1 + CodedOutputStream.ComputeLengthSize(player) + player;
        }
        foreach (ref readonly var t in world.Treasures)
        {
            var treasure = TreasureSize(t);
            size += 1 + CodedOutputStream.ComputeLengthSize(treasure) + treasure;
        }
        return size;
    }

    private static void WriteWorld(CodedOutputStream output, WorldCopy world)
    {
        output.WriteLength(WorldSize(world));
        if (world.Id.Length != 0)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString(world.Id);
        }
        foreach (ref readonly var p in world.Players)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            WritePlayer(output, p);
        }
        foreach (ref readonly var t in world.Treasures)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            WriteTreasure(output, t);
        }
    }

    // PlayerImage as the generated serializer writes it: fields in number order, defaults left out except the
    // optional last_teleport_stamp_ms, which is written whenever it is set.
    private static int PlayerSize(in DomainPlayerImage p)
    {
        var size = 0;
        size += p.Id.Length != 0 ? 1 + CodedOutputStream.ComputeStringSize(p.Id) : 0;
        size += p.X != 0 ? 1 + CodedOutputStream.ComputeSInt32Size(p.X) : 0;
        size += p.Y != 0 ? 1 + CodedOutputStream.ComputeSInt32Size(p.Y) : 0;
        size += p.Score != 0 ? 1 + CodedOutputStream.ComputeInt64Size(p.Score) : 0;
        size += p.ScoreReachedAtMs != 0 ? 1 + CodedOutputStream.ComputeInt64Size(p.ScoreReachedAtMs) : 0;
        size += p.LastSeq != 0 ? 1 + CodedOutputStream.ComputeUInt64Size(p.LastSeq) : 0;
        size += p.Online ? 2 : 0;
        size += p.LastClientTimeMs != 0 ? 1 + CodedOutputStream.ComputeInt64Size(p.LastClientTimeMs) : 0;
        size += p.LastMotionClientTimeMs != 0 ? 1 + CodedOutputStream.ComputeInt64Size(p.LastMotionClientTimeMs) : 0;
        size += p.LastTeleportStampMs is { } teleported ? 1 + CodedOutputStream.ComputeInt64Size(teleported) : 0;
        size += p.Joined ? 2 : 0;
        return size;
    }

    private static void WritePlayer(CodedOutputStream output, in DomainPlayerImage p)
    {
        output.WriteLength(PlayerSize(p));
        if (p.Id.Length != 0)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString(p.Id);
        }
        if (p.X != 0)
        {
            output.WriteTag(2, WireFormat.WireType.Varint);
            output.WriteSInt32(p.X);
        }
        if (p.Y != 0)
        {
            output.WriteTag(3, WireFormat.WireType.Varint);
            output.WriteSInt32(p.Y);
        }
        WriteInt64(output, 4, p.Score);
        WriteInt64(output, 5, p.ScoreReachedAtMs);
        if (p.LastSeq != 0)
        {
            output.WriteTag(6, WireFormat.WireType.Varint);
            output.WriteUInt64(p.LastSeq);
        }
        WriteBool(output, 7, p.Online);
        WriteInt64(output, 8, p.LastClientTimeMs);
        WriteInt64(output, 9, p.LastMotionClientTimeMs);
        if (p.LastTeleportStampMs is { } teleported)
        {
            output.WriteTag(10, WireFormat.WireType.Varint);
            output.WriteInt64(teleported);
        }
        WriteBool(output, 11, p.Joined);
    }

    private static int TreasureSize(in TreasureCopy t)
    {
        var size = 0;
        size += t.Id.Length != 0 ? 1 + CodedOutputStream.ComputeStringSize(t.Id) : 0;
        size += t.X != 0 ? 1 + CodedOutputStream.ComputeSInt32Size(t.X) : 0;
        size += t.Y != 0 ? 1 + CodedOutputStream.ComputeSInt32Size(t.Y) : 0;
        size += t.Value != 0 ? 1 + CodedOutputStream.ComputeInt64Size(t.Value) : 0;
        size += t.ClaimedBy is { Length: > 0 } claimer ? 1 + CodedOutputStream.ComputeStringSize(claimer) : 0;
        return size;
    }

    private static void WriteTreasure(CodedOutputStream output, in TreasureCopy t)
    {
        output.WriteLength(TreasureSize(t));
        if (t.Id.Length != 0)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString(t.Id);
        }
        if (t.X != 0)
        {
            output.WriteTag(2, WireFormat.WireType.Varint);
            output.WriteSInt32(t.X);
        }
        if (t.Y != 0)
        {
            output.WriteTag(3, WireFormat.WireType.Varint);
            output.WriteSInt32(t.Y);
        }
        WriteInt64(output, 4, t.Value);
        if (t.ClaimedBy is { Length: > 0 } claimer)
        {
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteString(claimer);
        }
    }

    private static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        if (value != 0)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteInt64(value);
        }
    }

    private static void WriteBool(CodedOutputStream output, int field, bool value)
    {
        if (value)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteBool(true);
        }
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
