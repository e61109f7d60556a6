using Veltrix.Contracts.V1;
using static Veltrix.Resolver.Tests.Events;

namespace Veltrix.Resolver.Tests;

/// <summary>Flags from the file apply to new batches; a replay decides under the version each batch logged.</summary>
public sealed class FlagTests : IDisposable
{
    private const string World = "flagged";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("veltrix-flags-").FullName;
    private string FlagsFile => Path.Combine(_dataDir, "flags.json");

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    private void WriteFlags(string json)
    {
        File.WriteAllText(FlagsFile, json);
        // Another version may land within the file system's timestamp granularity: move the stamp on.
        File.SetLastWriteTimeUtc(FlagsFile, DateTime.UtcNow.AddSeconds(File.Exists(FlagsFile) ? 5 : 0));
    }

    [Fact]
    public async Task Replay_AfterFlagsChanged_UsesVersionEachBatchWasAppliedUnder()
    {
        WriteFlags("""{ "version": 1, "rules": [ { "flag": "teleport.enabled", "value": 0, "world": "flagged" } ] }""");
        using (var first = new ResolverFixture(_dataDir, flagsFile: FlagsFile))
        {
            var reply = await first.Writer.ApplyAsync(Batch(World,
                Join(World, "p", 1).Stamp(),
                Teleport(World, "p", 2, 10, 10).Stamp()));
            Assert.Equal([Outcome.Accepted, Outcome.Rejected], reply.Results.Select(r => r.Outcome));
            Assert.Equal("teleport is disabled in this world", reply.Results[1].Reason);
        }

        WriteFlags("""{ "version": 2, "rules": [ { "flag": "score.multiplier_pct", "value": 300 } ] }""");
        using var second = new ResolverFixture(_dataDir, flagsFile: FlagsFile);

        // Replayed under version 1: the teleport is still refused, the player never moved.
        var p = await second.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = World, PlayerId = "p" });
        Assert.Equal(Domain.World.StartingPoint(World, "p", 100_000), (p.X, p.Y));
        Assert.Equal(2UL, p.LastSeq);

        // New batches run under version 2: teleports allowed, digs score triple.
        var batch = Batch(World, Teleport(World, "p", 3, 10, 10).Stamp(), Dig(World, "p", 4).Stamp());
        batch.Spawns.Add(Spawn(World, "t", 10, 10, 10));
        var now = await second.Writer.ApplyAsync(batch);
        Assert.All(now.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
        Assert.Equal(30, (await second.Reads.GetPlayerAsync(new GetPlayerRequest { WorldId = World, PlayerId = "p" })).Score);
    }

    [Fact]
    public async Task FlagsFile_Broken_VersionInForceStays()
    {
        WriteFlags("""{ "version": 1, "rules": [ { "flag": "no.such.flag", "value": 0 } ] }""");
        using var resolver = new ResolverFixture(_dataDir, flagsFile: FlagsFile);

        var reply = await resolver.Writer.ApplyAsync(Batch(World, Join(World, "q", 1).Stamp(), Teleport(World, "q", 2, 5, 5).Stamp()));

        Assert.All(reply.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
    }
}
