using System.Text;
using CsCheck;
using Google.Protobuf;
using Veltrix.Contracts;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;
using Veltrix.Domain;
using Xunit.Abstractions;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The resolver reads batches and events in place (<see cref="BatchLayout"/>, <see cref="WireEvent"/>)
/// where it used to parse them into messages: it must read exactly what the generated parser reads, or
/// a batch would mean one thing at ingest and another in the resolver and its log. Checked against the
/// generated parser on random events, on encodings a serializer does not produce (fields repeated or out
/// of order, unknown fields, kinds given twice, packed and unpacked stamps) and on random bytes.
/// </summary>
public sealed class WireReaderTests(ITestOutputHelper output)
{
    private const long Iterations = 20_000;

    private static readonly Gen<string> Ids = Gen.OneOf(
        Gen.String[Gen.Char["a-zA-Z0-9_-"], 1, 64],
        Gen.String[Gen.Char.AlphaNumeric, 0, 70],
        Gen.String);

    private static readonly Gen<Event> Events =
        Gen.Select(Ids, Ids, Gen.ULong, Gen.Long, Gen.Int[0, 6], Gen.Int, Gen.Int)
            .Select(t =>
            {
                var (player, world, seq, time, kind, x, y) = t;
                var e = new Event { PlayerId = player, WorldId = world, Seq = seq, ClientTimeMs = time };
                switch (kind)
                {
                    case 1: e.Join = new Join(); break;
                    case 2: e.Leave = new Leave(); break;
                    case 3: e.Move = new Move { X = x, Y = y }; break;
                    case 4: e.Teleport = new Teleport { X = x, Y = y }; break;
                    case 5: e.Dig = new Dig(); break;
                }
                return e;
            });

    // Whole fields to splice after a serialized event: each a field a writer could send.
    private static readonly Gen<byte[]> ExtraFields = Gen.OneOf(
        Gen.Select(Gen.Int[5, 9], Gen.ULong).Select(t => Field(t.Item1, 0, Varint(t.Item2))),
        Gen.Select(Gen.Int[15, 2000], Gen.Byte.Array[0, 12]).Select(t => Field(t.Item1, 2, t.Item2)),
        Gen.Select(Gen.Int[1, 2], Gen.Byte.Array[0, 8]).Select(t => Field(t.Item1, 2, t.Item2)),
        Gen.Select(Gen.Int[3, 4], Gen.ULong).Select(t => Field(t.Item1, 0, Varint(t.Item2))),
        Gen.Select(Gen.Int[1, 4], Gen.UInt).Select(t => Field(t.Item1, 5, BitConverter.GetBytes(t.Item2))),
        Gen.Select(Gen.Int[10, 14], Gen.Int, Gen.Int, Gen.Bool).Select(t => Field(t.Item1, 2, Target(t.Item2, t.Item3, t.Item4))),
        Gen.Int[5, 30].Select(f => Concat(Tag(f, 3), Field(1, 0, Varint(7)), Tag(f, 4))));

    [Fact]
    public void Event_AnyEncoding_ReadsWhatTheGeneratedParserReads()
    {
        Gen.Select(Events, ExtraFields.Array[0, 4], Gen.Bool).Sample((e, extras, extrasFirst) =>
        {
            var bytes = extrasFirst ? Concat([.. extras, e.ToByteArray()]) : Concat([e.ToByteArray(), .. extras]);
            AssertSameReading(bytes);
        }, iter: Iterations, writeLine: output.WriteLine);
    }

    [Fact]
    public void Event_CanonicalEncoding_ReadsTheSameAndIsWhatTheSerializerWritesAndNeverLonger()
    {
        Gen.Select(Events, ExtraFields.Array[0, 4], Gen.Bool).Sample((e, extras, extrasFirst) =>
        {
            var bytes = extrasFirst ? Concat([.. extras, e.ToByteArray()]) : Concat([e.ToByteArray(), .. extras]);
            WireEvent read;
            try
            {
                read = WireEvent.Read(bytes);
            }
            catch (InvalidDataException)
            {
                return; // not an event; nothing to re-encode
            }
            var canonical = new byte[bytes.Length];
            var length = read.WriteCanonical(canonical);
            var again = WireEvent.Read(canonical.AsSpan(0, length));

            Assert.Equal(ToGameEvent(read), ToGameEvent(again));
            // What the generated serializer writes for the same event, byte for byte (unknown fields dropped).
            var parsed = Event.Parser.ParseFrom(bytes);
            var known = new Event { PlayerId = parsed.PlayerId, WorldId = parsed.WorldId, Seq = parsed.Seq, ClientTimeMs = parsed.ClientTimeMs };
            switch (parsed.KindCase)
            {
                case Event.KindOneofCase.Join: known.Join = new Join(); break;
                case Event.KindOneofCase.Leave: known.Leave = new Leave(); break;
                case Event.KindOneofCase.Move: known.Move = new Move { X = parsed.Move.X, Y = parsed.Move.Y }; break;
                case Event.KindOneofCase.Teleport: known.Teleport = new Teleport { X = parsed.Teleport.X, Y = parsed.Teleport.Y }; break;
                case Event.KindOneofCase.Dig: known.Dig = new Dig(); break;
            }
            Assert.Equal(known.ToByteArray(), canonical.AsSpan(0, length).ToArray());
        }, iter: Iterations, writeLine: output.WriteLine);
    }

    [Fact]
    public void Event_RandomBytes_AcceptedAndReadExactlyWhenTheGeneratedParserAcceptsThem()
    {
        Gen.OneOf(Gen.Byte.Array[0, 40], ExtraFields.Array[1, 5].Select(Concat)).Sample(AssertSameReading, iter: Iterations, writeLine: output.WriteLine);
    }

    [Fact]
    public void Batch_PackedOrUnpackedStampsAnyFieldOrder_SameEventsAndStampsAsTheGeneratedParser()
    {
        Gen.Select(Events.Array[0, 20], Gen.Long.Array[0, 22], Gen.Bool, Gen.Bool, Gen.UInt).Sample((events, stamps, packed, stampsFirst, partition) =>
        {
            var eventFields = events.Select(e => Field(4, 2, e.ToByteArray())).ToArray();
            var stampFields = packed
                ? [Field(5, 2, Concat([.. stamps.Select(s => Varint((ulong)s))]))]
                : stamps.Select(s => Field(5, 0, Varint((ulong)s))).ToArray();
            var parts = stampsFirst ? stampFields.Concat(eventFields) : eventFields.Concat(stampFields);
            var bytes = Concat([Field(1, 0, Varint(partition)), .. parts]);

            var parsed = ApplyBatch.Parser.ParseFrom(bytes);
            var layout = new BatchLayout();
            layout.Read(bytes);

            Assert.Equal(parsed.Partition, layout.Partition);
            Assert.Equal(parsed.Events.Count, layout.Count);
            Assert.Equal(parsed.StampsMs.Count, layout.StampCount);
            Assert.Equal(parsed.StampsMatchEvents, layout.StampsMatchEvents);
            for (var i = 0; i < layout.StampCount; i++)
            {
                Assert.Equal(parsed.StampsMs[i], layout.StampAt(i));
            }
            for (var i = 0; i < layout.Count; i++)
            {
                Assert.Equal(parsed.Events[i].ToGameEvent(), ToGameEvent(WireEvent.Read(layout.EventAt(bytes, i))));
            }
        }, iter: 2_000, writeLine: output.WriteLine);
    }

    [Fact]
    public void Batch_Spawns_ReadAsMessages()
    {
        var batch = new ApplyBatch { Partition = 3 };
        batch.Spawns.Add(new Spawn { WorldId = "w", TreasureId = "t1", X = -4, Y = 9, Value = 50, StampMs = 17 });
        batch.Add(new Event { PlayerId = "p", WorldId = "w", Seq = 1, ClientTimeMs = 5, Dig = new Dig() }, 18);

        var layout = new BatchLayout();
        layout.Read(batch.ToByteArray());

        Assert.Equal(3u, layout.Partition);
        Assert.Equal(batch.Spawns, layout.Spawns);
        Assert.Equal(1, layout.Count);
        Assert.Equal(18, layout.StampAt(0));
    }

    [Theory]
    [InlineData(new byte[] { 0x22, 0x05, 0x0A })]                   // an event longer than the batch
    [InlineData(new byte[] { 0x28 })]                               // a stamp with no value
    [InlineData(new byte[] { 0x00, 0x01 })]                         // field number 0
    [InlineData(new byte[] { 0x2A, 0x02, 0xFF, 0xFF })]             // a packed stamp that never ends
    [InlineData(new byte[] { 0x1B, 0x08, 0x01 })]                   // a group with no end
    [InlineData(new byte[] { 0x0F })]                               // wire type 7
    public void Batch_Malformed_Refused(byte[] bytes)
    {
        Assert.Throws<InvalidDataException>(() => new BatchLayout().Read(bytes));
        Assert.ThrowsAny<InvalidProtocolBufferException>(() => ApplyBatch.Parser.ParseFrom(bytes));
    }

    [Fact]
    public void Ids_ByteRulesMatchTheCharRules()
    {
        Ids.Sample(id =>
        {
            var bytes = Encoding.UTF8.GetBytes(id);
            Assert.Equal(EventValidator.IsValidId(id), EventValidator.IsValidId(bytes));
            if (EventValidator.IsValidId(id))
            {
                Assert.Equal(Partitioning.PartitionOf(id, 64), Partitioning.PartitionOf(bytes, 64));
                Assert.Equal(id, WireIds.ToChars(bytes, new char[EventValidator.MaxIdLength]).ToString());
            }
        }, iter: Iterations, writeLine: output.WriteLine);
    }

    private static void AssertSameReading(byte[] bytes)
    {
        Event? parsed;
        try
        {
            parsed = Event.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            parsed = null;
        }
        GameEvent? read;
        try
        {
            read = ToGameEvent(WireEvent.Read(bytes));
        }
        catch (InvalidDataException)
        {
            read = null;
        }
        Assert.Equal(parsed?.ToGameEvent(), read);
    }

    private static GameEvent ToGameEvent(WireEvent e) =>
        new(Encoding.UTF8.GetString(e.PlayerId), Encoding.UTF8.GetString(e.WorldId), e.Seq, e.ClientTimeMs, e.Kind, e.X, e.Y);

    private static byte[] Target(int x, int y, bool both)
    {
        var xs = Field(1, 0, Varint((uint)((x << 1) ^ (x >> 31))));
        return both ? Concat(xs, Field(2, 0, Varint((uint)((y << 1) ^ (y >> 31))))) : xs;
    }

    private static byte[] Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private static byte[] Field(int field, int wireType, byte[] value) =>
        wireType == 2 ? Concat(Tag(field, wireType), Varint((ulong)value.Length), value) : Concat(Tag(field, wireType), value);

    private static byte[] Varint(ulong value)
    {
        var buffer = new byte[10];
        return buffer[..WireReader.WriteVarint(buffer, value)];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(static p => p)];
}
