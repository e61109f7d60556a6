using Grpc.Core;
using Veltrix.Contracts.Internal;

namespace Veltrix.Resolver.Grpc;

/// <summary>Streams every partition's score changes to the leaderboard: a snapshot, then live changes.</summary>
public sealed class ScoreFeedService(PartitionSet partitions, IHostApplicationLifetime lifetime, ILogger<ScoreFeedService> logger)
    : ScoreFeed.ScoreFeedBase
{
    // Large snapshots leave in messages of this many changes, far below the message size limit.
    private const int ChunkSize = 2_000;

    public override async Task Subscribe(ScoreFeedRequest request, IServerStreamWriter<ScoreChanges> responseStream, ServerCallContext context)
    {
        var subscriber = new ScoreFeedSubscriber(partitions.Count, partitions.FeedSubscriberCapacity);
        Log.FeedSubscribed(logger);
        // The feed never ends by itself: end it when the resolver stops, so shutdown does not wait on it.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            for (var i = 0; i < partitions.Count; i++)
            {
                await partitions[i].EnqueueAsync(new SubscribeWork(subscriber), ended.Token);
            }
            await foreach (var message in subscriber.Reader.ReadAllAsync(ended.Token))
            {
                await WriteChunkedAsync(responseStream, message);
            }
        }
        catch (SubscriberTooSlowException ex)
        {
            Log.FeedSubscriberCut(logger, ex.Message);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, ex.Message));
        }
        catch (PartitionUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "resolver is stopping"));
        }
        finally
        {
            subscriber.Close();
        }
    }

    private static async Task WriteChunkedAsync(IServerStreamWriter<ScoreChanges> stream, ScoreChanges message)
    {
        if (message.Changes.Count <= ChunkSize)
        {
            await stream.WriteAsync(message);
            return;
        }
        for (var offset = 0; offset < message.Changes.Count; offset += ChunkSize)
        {
            var chunk = new ScoreChanges { Snapshot = message.Snapshot };
            for (var i = offset; i < Math.Min(offset + ChunkSize, message.Changes.Count); i++)
            {
                chunk.Changes.Add(message.Changes[i]);
            }
            await stream.WriteAsync(chunk);
        }
    }
}
