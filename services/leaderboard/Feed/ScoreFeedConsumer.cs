using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.Internal;
using Veltrix.ServiceDefaults;

namespace Veltrix.Leaderboard;

/// <summary>
/// Follows the resolver's score feed and applies it on this loop, the boards' only writer. Any failure
/// (resolver not up yet, stream broken, resolver restarted) means: wait, resubscribe, and take the new
/// snapshot, which carries absolute scores and so can be applied over the boards as they stand.
/// </summary>
internal sealed class ScoreFeedConsumer(
    ScoreApplier applier,
    IOptions<MeshOptions> mesh,
    IOptions<LeaderboardOptions> options,
    LeaderboardMetrics metrics,
    TimeProvider time,
    ILogger<ScoreFeedConsumer> logger) : BackgroundService
{
    private bool _synced;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var address = mesh.Value.Resolver;
        var min = TimeSpan.FromMilliseconds(options.Value.ReconnectMinMs);
        var max = TimeSpan.FromMilliseconds(Math.Max(options.Value.ReconnectMinMs, options.Value.ReconnectMaxMs));
        using var channel = MeshChannel.Create(address);
        var client = new ScoreFeed.ScoreFeedClient(channel);
        var backoff = min;

        while (!stoppingToken.IsCancellationRequested)
        {
            Log.FeedSubscribing(logger, address);
            Exception? failure = null;
            try
            {
                await FollowAsync(client, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Whatever broke the subscription, the remedy is the same: resubscribe after a pause.
                failure = e;
            }
            finally
            {
                applier.AbandonSnapshot();
            }

            if (_synced)
            {
                // The resolver was reachable and consistent; this failure starts the backoff afresh.
                backoff = min;
                _synced = false;
            }
            var retryMs = (int)backoff.TotalMilliseconds;
            switch (failure)
            {
                case null:
                    Log.FeedEnded(logger, retryMs);
                    break;
                case RpcException rpc:
                    Log.FeedUnavailable(logger, rpc.StatusCode, rpc.Status.Detail, retryMs);
                    break;
                default:
                    Log.FeedFailed(logger, failure, retryMs);
                    break;
            }
            metrics.FeedReconnected();
            try
            {
                await Task.Delay(backoff, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, max.Ticks));
        }
    }

    private async Task FollowAsync(ScoreFeed.ScoreFeedClient client, CancellationToken stoppingToken)
    {
        // The subscription lives as long as the resolver does, so it has no deadline: a dead or paused
        // resolver is noticed by the channel's HTTP/2 keep-alive pings, which fail the stream.
        using var call = client.Subscribe(new ScoreFeedRequest(), cancellationToken: stoppingToken);
        applier.BeginSnapshot();
        var stream = call.ResponseStream;
        while (await stream.MoveNext(stoppingToken))
        {
            if (applier.Apply(stream.Current))
            {
                _synced = true;
            }
        }
    }
}
