using System.Threading.Channels;
using Veltrix.Domain;
using ScoreChangeMessage = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver;

/// <summary>
/// One partition: the worlds it owns and the single loop that is their only writer. Everything that
/// touches game state, reads included, runs as a <see cref="PartitionWork"/> on that loop, so state
/// needs no locks and the order of the queue is the order of the game.
/// </summary>
public sealed class Partition
{
    private readonly Channel<PartitionWork> _queue;
    private readonly ResolverOptions _options;
    private readonly ILogger _logger;
    private readonly List<PartitionWork> _turn = [];
    private Task _loop = Task.CompletedTask;

    public Partition(int id, ResolverOptions options, ILogger logger)
    {
        Id = id;
        _options = options;
        _logger = logger;
        State = new PartitionState(id, options);
        _queue = Channel.CreateBounded<PartitionWork>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public int Id { get; }

    /// <summary>Owned by the loop; read it only from a <see cref="PartitionWork"/>.</summary>
    internal PartitionState State { get; }

    public int QueueDepth => _queue.Reader.Count;

    public void Start(CancellationToken stopping) => _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    /// <summary>Queues work; waits while the queue is full, up to the caller's deadline.</summary>
    public ValueTask EnqueueAsync(PartitionWork work, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(work, cancellationToken);

    private async Task RunAsync(CancellationToken stopping)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (_turn.Count < _options.MaxItemsPerTurn && reader.TryRead(out var work))
                {
                    try
                    {
                        work.Run(State);
                    }
                    catch (Exception ex)
                    {
                        Log.WorkFailed(_logger, Id, ex);
                        work.Fail(ex);
                        continue;
                    }
                    _turn.Add(work);
                }

                // The turn's effects are one unit: the durable append of the turn goes here, before
                // any caller hears an outcome and before the leaderboard sees a score.
                State.PublishScoreChanges();
                foreach (var work in _turn)
                {
                    work.Complete();
                }
                _turn.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var abandoned))
        {
            abandoned.Fail(new OperationCanceledException("resolver is stopping"));
        }
    }
}

/// <summary>The state a partition loop owns: worlds, score-feed subscribers, counters.</summary>
public sealed class PartitionState(int id, ResolverOptions options)
{
    private readonly Dictionary<string, World> _worlds = new(StringComparer.Ordinal);
    private readonly List<ScoreFeedSubscriber> _subscribers = [];
    private readonly List<ScoreChangeMessage> _changes = [];

    public int Id { get; } = id;
    public ResolverOptions Options { get; } = options;
    public IReadOnlyCollection<World> Worlds => _worlds.Values;

    // Written by the loop only; read (racily, 64-bit) by metrics.
    internal long Accepted;
    internal long Rejected;
    internal long Duplicates;
    internal long Malformed;
    internal long Spawns;

    public World? FindWorld(string worldId) => _worlds.GetValueOrDefault(worldId);

    public World? GetOrAddWorld(string worldId)
    {
        if (_worlds.TryGetValue(worldId, out var world))
        {
            return world;
        }
        if (_worlds.Count >= Options.MaxWorldsPerPartition)
        {
            return null;
        }
        world = new World(worldId, WorldRules.Default);
        _worlds.Add(worldId, world);
        return world;
    }

    internal void RecordScore(string worldId, in ScoreChange change)
    {
        if (_subscribers.Count > 0)
        {
            _changes.Add(new ScoreChangeMessage
            {
                WorldId = worldId,
                PlayerId = change.PlayerId,
                Score = change.Score,
                ReachedAtMs = change.ReachedAtMs,
            });
        }
    }

    internal void AddSubscriber(ScoreFeedSubscriber subscriber) => _subscribers.Add(subscriber);

    /// <summary>Sends the turn's score changes to every live subscriber; drops the closed ones.</summary>
    internal void PublishScoreChanges()
    {
        if (_subscribers.Count == 0)
        {
            return;
        }
        _subscribers.RemoveAll(static s => s.IsClosed);
        if (_changes.Count == 0)
        {
            return;
        }
        var message = new Veltrix.Contracts.Internal.ScoreChanges();
        message.Changes.AddRange(_changes);
        _changes.Clear();
        foreach (var subscriber in _subscribers)
        {
            subscriber.Offer(message);
        }
    }
}
