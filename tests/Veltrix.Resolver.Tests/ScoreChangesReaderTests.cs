using CsCheck;
using Google.Protobuf;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Wire;
using Xunit.Abstractions;

namespace Veltrix.Resolver.Tests;

/// <summary>
/// The leaderboard reads the resolver's score feed in place (<see cref="ScoreChangesReader"/>): it must read what
/// the generated parser reads, on messages as the resolver writes them, with fields the serializer never writes
/// (unknown, repeated, flags anywhere), and on random bytes.
/// </summary>
public sealed class ScoreChangesReaderTests(ITestOutputHelper output)
{
    private const long Iterations = 10_000;

    private static readonly Gen<ScoreChange> Changes =
        Gen.Select(Gen.String[Gen.Char["a-zA-Z0-9_-"], 0, 64], Gen.String, Gen.Long, Gen.Long, Gen.Bool)
            .Select(t => new ScoreChange { WorldId = t.Item1, PlayerId = t.Item2, Score = t.Item3, ReachedAtMs = t.Item4, Removed = t.Item5 });

    private static readonly Gen<ScoreChanges> Messages =
        Gen.Select(Changes.Array[0, 12], Gen.Bool, Gen.Bool).Select(t =>
        {
            var message = new ScoreChanges { Snapshot = t.Item2, SnapshotDone = t.Item3 };
            message.Changes.AddRange(t.Item1);
            return message;
        });

    // Fields after the message: unknown ones, flags given again, a change's scalar given again inside it.
    private static readonly Gen<byte[]> ExtraFields = Gen.OneOf(
        Gen.Select(Gen.Int[4, 40], Gen.ULong).Select(t => Field(t.Item1, 0, Varint(t.Item2))),
        Gen.Select(Gen.Int[4, 2000], Gen.Byte.Array[0, 10]).Select(t => Field(t.Item1, 2, t.Item2)),
        Gen.Select(Gen.Int[2, 3], Gen.ULong[0, 2]).Select(t => Field(t.Item1, 0, Varint(t.Item2))),
        Gen.Select(Changes, Gen.Long).Select(t => Field(1, 2, [.. t.Item1.ToByteArray(), .. Field(3, 0, Varint((ulong)t.Item2))])));

    [Fact]
    public void Message_AnyEncoding_ReadsWhatTheGeneratedParserReads()
    {
        Gen.Select(Messages, ExtraFields.Array[0, 4]).Sample((message, extras) =>
        {
            AssertSameReading([.. message.ToByteArray(), .. extras.SelectMany(e => e)]);
        }, iter: Iterations, writeLine: output.WriteLine);
    }

    [Fact]
    public void RandomBytes_ReadExactlyWhenTheGeneratedParserAcceptsThem()
    {
        Gen.Byte.Array[0, 40].Sample(AssertSameReading, iter: Iterations, writeLine: output.WriteLine);
    }

    private static void AssertSameReading(byte[] bytes)
    {
        ScoreChanges expected;
        try
        {
            expected = ScoreChanges.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            Assert.ThrowsAny<InvalidDataException>(() => Read(bytes));
            return;
        }
        var (snapshot, done, changes) = Read(bytes);
        Assert.Equal(expected.Snapshot, snapshot);
        Assert.Equal(expected.SnapshotDone, done);
        Assert.Equal(expected.Changes.ToList(), changes);
    }

    private static (bool Snapshot, bool Done, List<ScoreChange> Changes) Read(byte[] bytes)
    {
        var reader = new ScoreChangesReader(bytes);
        var changes = new List<ScoreChange>();
        while (reader.TryRead(out var change))
        {
            changes.Add(new ScoreChange
            {
                WorldId = System.Text.Encoding.UTF8.GetString(change.WorldId),
                PlayerId = System.Text.Encoding.UTF8.GetString(change.PlayerId),
                Score = change.Score,
                ReachedAtMs = change.ReachedAtMs,
                Removed = change.Removed,
            });
        }
        return (reader.Snapshot, reader.SnapshotDone, changes);
    }

    private static byte[] Field(int number, int wireType, byte[] payload) =>
        wireType == 2
            ? [.. Varint((ulong)((number << 3) | wireType)), .. Varint((ulong)payload.Length), .. payload]
            : [.. Varint((ulong)((number << 3) | wireType)), .. payload];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }
}
