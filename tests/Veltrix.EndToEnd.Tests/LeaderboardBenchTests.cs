using Google.Protobuf;
using Veltrix.Cli.Bench.Leaderboard;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;

namespace Veltrix.EndToEnd.Tests;

/// <summary>The leaderboard bench's instruments: the feed it writes by hand and the frames it reads by hand.</summary>
public sealed class LeaderboardBenchTests
{
    [Fact]
    public void SnapshotChunks_EveryPlayerOnceThenDone_AsTheGeneratedParserReadsThem()
    {
        var traffic = new ScoreTraffic(players: 1_000, worlds: 7, TimeSpan.FromMilliseconds(10));
        var buffer = new byte[ScoreTraffic.BufferSize(300)];
        var seen = new List<ScoreChange>();
        var messages = new List<ScoreChanges>();
        var next = 0;
        do
        {
            (var length, next) = traffic.WriteSnapshotChunk(buffer, next, 300);
            var message = ScoreChanges.Parser.ParseFrom(buffer.AsSpan(0, length));
            messages.Add(message);
            seen.AddRange(message.Changes);
        }
        while (next < traffic.Players);

        Assert.Equal(4, messages.Count);
        Assert.All(messages, m => Assert.True(m.Snapshot));
        Assert.Equal([false, false, false, true], messages.Select(m => m.SnapshotDone));
        Assert.Equal(ScoreTraffic.BeaconPlayer, seen[0].PlayerId);
        var players = seen.Skip(1).ToList();
        Assert.Equal(Enumerable.Range(0, 1_000).Select(ScoreTraffic.PlayerId), players.Select(c => c.PlayerId));
        Assert.All(players, c => Assert.Equal("w" + (int.Parse(c.PlayerId[1..], System.Globalization.CultureInfo.InvariantCulture) % 7), c.WorldId));
        Assert.Equal(1_001, traffic.ChangesWritten);
    }

    [Fact]
    public void Changes_RaiseScoresAndCarryTheBeaconWhenDue()
    {
        var traffic = new ScoreTraffic(players: 50, worlds: 5, TimeSpan.FromMilliseconds(10));
        var buffer = new byte[ScoreTraffic.BufferSize(64)];
        var scores = new Dictionary<string, long>();

        var first = ScoreChanges.Parser.ParseFrom(buffer.AsSpan(0, traffic.WriteChanges(buffer, 64)));
        var second = ScoreChanges.Parser.ParseFrom(buffer.AsSpan(0, traffic.WriteChanges(buffer, 64)));

        Assert.Equal(64, first.Changes.Count);
        Assert.False(first.Snapshot || first.SnapshotDone || second.Snapshot || second.SnapshotDone);
        // The beacon leads the first message (it is due at once) and not the next one, written within 10 ms.
        Assert.Equal(ScoreTraffic.BeaconPlayer, first.Changes[0].PlayerId);
        Assert.NotNull(ScoreTraffic.BeaconAge(first.Changes[0].Score, ScoreTraffic.Clock()));
        Assert.DoesNotContain(second.Changes, c => c.PlayerId == ScoreTraffic.BeaconPlayer);
        foreach (var change in first.Changes.Skip(1).Concat(second.Changes))
        {
            Assert.False(change.Removed);
            Assert.True(change.Score > scores.GetValueOrDefault(change.PlayerId), "a player's score only grows");
            scores[change.PlayerId] = change.Score;
        }
    }

    [Fact]
    public void FrameDigest_ReadsTopScoreEntriesAndHeartbeat()
    {
        var frame = new BoardFrame { Board = "global", Version = 9, SentAtMs = 123 };
        frame.Entries.Add(new BoardEntry { Rank = 1, PlayerId = "beacon", Score = ScoreTraffic.BeaconBase + 5 });
        frame.Entries.Add(new BoardEntry { Rank = 2, PlayerId = "p0000001", Score = 40 });

        Assert.Equal(new FrameDigest(false, 2, ScoreTraffic.BeaconBase + 5), FrameDigest.Read(frame.ToByteArray()));
        Assert.Equal(new FrameDigest(true, 0, null), FrameDigest.Read(new BoardFrame { Board = "global", Heartbeat = true }.ToByteArray()));
        Assert.Throws<InvalidDataException>(() => FrameDigest.Read([0x12, 0x05, 0x01]));
    }
}
