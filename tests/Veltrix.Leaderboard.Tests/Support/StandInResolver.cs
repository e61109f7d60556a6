using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Veltrix.Contracts.Internal;
using Veltrix.Testing;

namespace Veltrix.Leaderboard.Tests;

/// <summary>
/// Stands in for the resolver's score feed: a real Kestrel h2c server on 127.0.0.1 that sends a snapshot,
/// then whatever the test publishes, and can break its streams like a dying resolver would.
/// </summary>
internal sealed class StandInResolver : IAsyncDisposable
{
    private readonly LoopbackGrpcServer _server;

    private StandInResolver(LoopbackGrpcServer server, FeedScript feed)
    {
        _server = server;
        Feed = feed;
    }

    public FeedScript Feed { get; }

    public int Port => _server.Port;

    public string Address => _server.Address;

    /// <summary>Starts on <paramref name="port"/>, or on a free port when it is 0.</summary>
    public static async Task<StandInResolver> StartAsync(IReadOnlyList<ScoreChange> snapshot, int port = 0)
    {
        var feed = new FeedScript(snapshot);
        var server = await LoopbackGrpcServer.StartAsync(
            services => services.AddSingleton(feed),
            app => app.MapGrpcService<StandInScoreFeed>(),
            new LoopbackGrpcServerOptions { Port = port });
        return new StandInResolver(server, feed);
    }

    public async ValueTask DisposeAsync()
    {
        Feed.Break();
        await _server.DisposeAsync();
        Feed.Dispose();
    }
}

/// <summary>What the stand-in feed sends; shared by every subscription it serves.</summary>
internal sealed class FeedScript(IReadOnlyList<ScoreChange> snapshot) : IDisposable
{
    private readonly Channel<ScoreChanges> _live = Channel.CreateBounded<ScoreChanges>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _broken = new();
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<ScoreChange> Snapshot { get; } = snapshot;

    /// <summary>Completes when a subscriber has been sent the whole snapshot.</summary>
    public Task Subscribed => _subscribed.Task.WaitAsync(Limits.Signal);

    public CancellationToken BrokenToken => _broken.Token;

    public ChannelReader<ScoreChanges> Live => _live.Reader;

    public void MarkSubscribed() => _subscribed.TrySetResult();

    public async Task PublishAsync(params ScoreChange[] changes)
    {
        var message = new ScoreChanges();
        message.Changes.Add(changes);
        await _live.Writer.WriteAsync(message).AsTask().WaitAsync(Limits.Signal);
    }

    /// <summary>Fails every open subscription, as a resolver going down would.</summary>
    public void Break() => _broken.Cancel();

    public void Dispose() => _broken.Dispose();
}

internal sealed class StandInScoreFeed(FeedScript script) : ScoreFeed.ScoreFeedBase
{
    public override async Task Subscribe(ScoreFeedRequest request, IServerStreamWriter<ScoreChanges> responseStream,
        ServerCallContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, script.BrokenToken);
        var snapshot = new ScoreChanges { Snapshot = true };
        snapshot.Changes.Add(script.Snapshot);
        await responseStream.WriteAsync(snapshot, stop.Token);
        await responseStream.WriteAsync(new ScoreChanges { Snapshot = true, SnapshotDone = true }, stop.Token);
        script.MarkSubscribed();
        try
        {
            while (await script.Live.WaitToReadAsync(stop.Token))
            {
                while (script.Live.TryRead(out var live))
                {
                    await responseStream.WriteAsync(live, stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (script.BrokenToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "stand-in resolver going down"));
        }
    }
}

internal static class Scores
{
    public static ScoreChange Change(string world, string player, long score, long reachedAtMs) =>
        new() { WorldId = world, PlayerId = player, Score = score, ReachedAtMs = reachedAtMs };
}
