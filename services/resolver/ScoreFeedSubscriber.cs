using System.Threading.Channels;
using Veltrix.Contracts.Internal;

namespace Veltrix.Resolver;

/// <summary>
/// One ScoreFeed stream. Partition loops offer it messages without ever waiting: a subscriber that
/// falls <see cref="ResolverOptions.FeedSubscriberCapacity"/> messages behind is cut off, and its
/// next subscription starts again from a snapshot. A slow leaderboard never slows a partition.
/// </summary>
public sealed class ScoreFeedSubscriber
{
    private readonly Channel<ScoreChanges> _queue;
    private int _snapshotsPending;

    public ScoreFeedSubscriber(int partitions, int capacity)
    {
        _snapshotsPending = partitions;
        _queue = Channel.CreateBounded<ScoreChanges>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public bool IsClosed { get; private set; }

    public ChannelReader<ScoreChanges> Reader => _queue.Reader;

    internal void Offer(ScoreChanges message)
    {
        if (!IsClosed && !_queue.Writer.TryWrite(message))
        {
            Close(new SubscriberTooSlowException());
        }
    }

    internal void PartitionSnapshotSent()
    {
        if (Interlocked.Decrement(ref _snapshotsPending) == 0)
        {
            Offer(new ScoreChanges { SnapshotDone = true });
        }
    }

    public void Close(Exception? error = null)
    {
        IsClosed = true;
        _queue.Writer.TryComplete(error);
    }
}

public sealed class SubscriberTooSlowException() : Exception("score feed subscriber fell too far behind");
