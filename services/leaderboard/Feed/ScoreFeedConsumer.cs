using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.Wire;
using Veltrix.ServiceDefaults;

namespace Veltrix.Leaderboard;

/// <summary>
/// Follows the score feed of every resolver instance of the <see cref="PartitionMap"/>, one follower per
/// instance, and applies what they read on one loop, the boards' only writer. A follower's failure (its
/// resolver not up yet, stream broken, resolver restarted) means: wait, resubscribe, and take that instance's
/// new snapshot, which carries absolute scores and so can be applied over the boards as they stand; the other
/// followers carry on meanwhile, and the snapshot's sweep touches only that instance's worlds.
/// </summary>
internal sealed class ScoreFeedConsumer(
    ScoreApplier applier,
    ResolverChannels resolvers,
    IOptions<LeaderboardOptions> options,
    LeaderboardMetrics metrics,
    TimeProvider time,
    ILogger<ScoreFeedConsumer> logger) : BackgroundService
{
    // Messages the followers may read ahead of the writer before they wait (and HTTP/2 flow control makes the
    // resolvers wait): a few snapshot chunks per feed. Not tuned by a benchmark; it bounds memory, that is all.
    private const int InboxCapacity = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var inbox = Channel.CreateBounded<FeedItem>(new BoundedChannelOptions(InboxCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var subscriptions = new Subscription[resolvers.Map.InstanceCount];
        var followers = new Task[subscriptions.Length];
        for (var i = 0; i < followers.Length; i++)
        {
            subscriptions[i] = new Subscription();
            followers[i] = FollowAsync(i, subscriptions[i], inbox.Writer, stoppingToken);
        }
        try
        {
            await foreach (var item in inbox.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    Apply(item);
                }
                catch (Exception e)
                {
                    // The boards may now miss part of that feed: its next snapshot is the remedy.
                    Log.FeedApplyFailed(logger, e, item.Source);
                    applier.AbandonSnapshot(item.Source);
                    subscriptions[item.Source].RequestResubscribe();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        foreach (var follower in followers)
        {
            await follower.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void Apply(FeedItem item)
    {
        switch (item.Kind)
        {
            case FeedItemKind.Subscribed:
                applier.BeginSnapshot(item.Source);
                break;
            case FeedItemKind.Changes:
                using (var message = item.Message!)
                {
                    applier.Apply(message.Span, item.Source);
                }
                break;
            default:
                applier.AbandonSnapshot(item.Source);
                break;
        }
    }

    // One resolver instance's feed, for as long as the leaderboard runs.
    private async Task FollowAsync(int source, Subscription subscription, ChannelWriter<FeedItem> inbox, CancellationToken stoppingToken)
    {
        var address = resolvers.Map.AddressOf(source);
        var resolver = resolvers.ForOrdinal(source);
        var min = TimeSpan.FromMilliseconds(options.Value.ReconnectMinMs);
        var max = TimeSpan.FromMilliseconds(Math.Max(options.Value.ReconnectMinMs, options.Value.ReconnectMaxMs));
        var backoff = min;

        while (!stoppingToken.IsCancellationRequested)
        {
            Log.FeedSubscribing(logger, source, address);
            subscription.Start();
            Exception? failure = null;
            try
            {
                await ReadAsync(resolver, source, inbox, subscription, stoppingToken);
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
            try
            {
                await inbox.WriteAsync(new FeedItem(source, FeedItemKind.Broken, null), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (subscription.Synced)
            {
                // The resolver was reachable and consistent; this failure starts the backoff afresh.
                backoff = min;
            }
            var retryMs = (int)backoff.TotalMilliseconds;
            switch (failure)
            {
                case null:
                    Log.FeedEnded(logger, source, retryMs);
                    break;
                case RpcException rpc:
                    Log.FeedUnavailable(logger, source, rpc.StatusCode, rpc.Status.Detail, retryMs);
                    break;
                default:
                    Log.FeedFailed(logger, failure, source, retryMs);
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

    // Reads one subscription until it ends, handing every message to the writer in the order it came, as its bytes.
    private static async Task ReadAsync(
        CallInvoker resolver, int source, ChannelWriter<FeedItem> inbox, Subscription subscription, CancellationToken stoppingToken)
    {
        // The subscription lives as long as the resolver does, so it has no deadline: a dead or paused
        // resolver is noticed by the channel's HTTP/2 keep-alive pings, which fail the stream.
        using var call = resolver.AsyncServerStreamingCall(ScoreFeedWire.Subscribe, null, new CallOptions(cancellationToken: stoppingToken),
            new ScoreFeedRequest());
        await inbox.WriteAsync(new FeedItem(source, FeedItemKind.Subscribed, null), stoppingToken);
        var stream = call.ResponseStream;
        while (await stream.MoveNext(stoppingToken))
        {
            var message = stream.Current;
            try
            {
                if (new ScoreChangesReader(message.Span).SnapshotDone)
                {
                    subscription.Synced = true;
                }
                await inbox.WriteAsync(new FeedItem(source, FeedItemKind.Changes, message), stoppingToken);
            }
            catch
            {
                // Not handed over: its buffer goes back to the pool here.
                message.Dispose();
                throw;
            }
            if (subscription.ResubscribeRequested)
            {
                throw new InvalidOperationException("the boards could not apply a message of this feed; taking a new snapshot");
            }
        }
    }

    /// <summary>One follower's current subscription, as its follower and the writer see it.</summary>
    private sealed class Subscription
    {
        private volatile bool _resubscribe;

        /// <summary>The subscription got as far as the end of its snapshot.</summary>
        public bool Synced { get; set; }

        public bool ResubscribeRequested => _resubscribe;

        public void Start()
        {
            Synced = false;
            _resubscribe = false;
        }

        /// <summary>Writer: this feed must start again from a snapshot.</summary>
        public void RequestResubscribe() => _resubscribe = true;
    }

    private enum FeedItemKind
    {
        Subscribed,
        Changes,
        Broken,
    }

    /// <summary>A message of a feed, or news of its subscription; the writer disposes <see cref="Message"/> once applied.</summary>
    private readonly record struct FeedItem(int Source, FeedItemKind Kind, SerializedBatch? Message);
}
