using System.Diagnostics;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using LeaderboardClient = Veltrix.Contracts.V1.Leaderboard.LeaderboardClient;

namespace Veltrix.Leaderboard.Tests;

/// <summary>
/// The leaderboard host in memory, fed by stand-in resolvers over real gRPC: one address is the single
/// resolver (<c>Veltrix:Mesh:Resolver</c>), several are the instances of <c>Veltrix:Mesh:Resolvers</c>.
/// </summary>
internal sealed class LeaderboardApp(params string[] resolverAddresses) : WebApplicationFactory<Program>
{
    private GrpcChannel? _channel;

    public LeaderboardClient Client
    {
        get
        {
            _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });
            return new LeaderboardClient(_channel);
        }
    }

    public BoardStore Store => Services.GetRequiredService<BoardStore>();

    public LeaderboardMetrics Metrics => Services.GetRequiredService<LeaderboardMetrics>();

    /// <summary>Waits, woken by every batch the feed applies, until the condition holds; fails after a bounded time.</summary>
    public async Task WaitUntilAsync(Func<BoardStore, bool> condition)
    {
        var store = Store;
        var started = Stopwatch.StartNew();
        while (true)
        {
            var changed = store.Changed.WaitAsync();
            if (condition(store))
            {
                return;
            }
            var left = Limits.Signal - started.Elapsed;
            Assert.True(left > TimeSpan.Zero, "the boards did not reach the expected state in time");
            await changed.WaitAsync(left).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (resolverAddresses.Length == 1)
        {
            builder.UseSetting("Veltrix:Mesh:Resolver", resolverAddresses[0]);
        }
        else
        {
            for (var i = 0; i < resolverAddresses.Length; i++)
            {
                builder.UseSetting("Veltrix:Mesh:Resolvers:" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), resolverAddresses[i]);
            }
        }
        builder.UseSetting("Veltrix:Leaderboard:ReconnectMinMs", "20");
        builder.UseSetting("Veltrix:Leaderboard:ReconnectMaxMs", "200");
        builder.ConfigureLogging(logging => logging.ClearProviders());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _channel?.Dispose();
        }
        base.Dispose(disposing);
    }
}

internal static class BoardReads
{
    /// <summary>A player's score on a board, or null when they are not on it.</summary>
    public static long? ScoreOf(this BoardStore store, string board, string player)
    {
        if (!store.TryGet(board, out var b))
        {
            return null;
        }
        Span<Entry> one = new Entry[1];
        return b.TryReadAround(player, 0, 0, one, out _, out _, out _) ? one[0].Score : null;
    }

    public static int CountOf(this BoardStore store, string board) => store.TryGet(board, out var b) ? b.Count : 0;
}
