using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Veltrix.Contracts.Storage;
using Veltrix.Domain;
using Veltrix.Storage;
using ScoreChangeMessage = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver;

/// <summary>
/// One partition: the worlds it owns and the single loop that is their only writer. Everything that
/// touches game state, reads included, runs as a <see cref="PartitionWork"/> on that loop, so state
/// needs no locks and the order of the queue is the order of the game. Each turn of the loop applies
/// what is queued, appends the turn's inputs to the durable log in one append, and only then answers.
/// </summary>
public sealed class Partition
{
    private readonly Channel<PartitionWork> _queue;
    private readonly ResolverOptions _options;
    private readonly StorageOptions _storage;
    private readonly IPartitionStore _store;
    private readonly Func<FlagSet> _flags;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<PartitionWork> _turn = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IPartitionLog? _log;
    private long _eventsSinceSnapshot;
    private bool _failureIsTransient;
    private TimeSpan _retryDelay = MinRetryDelay;
    private Task _loop = Task.CompletedTask;

    // A store that went away (Redis restarting) is tried again this often, doubling up to the maximum:
    // service resumes within about a second of the store's return.
    private static readonly TimeSpan MinRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    public Partition(
        int id,
        ResolverOptions options,
        StorageOptions storage,
        IPartitionStore store,
        Func<FlagSet> flags,
        TimeProvider time,
        ILogger logger)
    {
        _time = time;
        Id = id;
        _options = options;
        _storage = storage;
        _store = store;
        _flags = flags;
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
    internal PartitionState State { get; private set; }

    public int QueueDepth => _queue.Reader.Count;

    /// <summary>Why this partition is not served, or null while it is.</summary>
    public string? Failure { get; private set; }

    /// <summary>Completes once the partition recovered (or failed to).</summary>
    public Task Ready => _ready.Task;

    public void Start(CancellationToken stopping) => _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);

    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_log is not null)
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Queues work; waits while the queue is full, up to the caller's deadline.</summary>
    public ValueTask EnqueueAsync(PartitionWork work, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(work, cancellationToken);

    /// <summary>Queues work and awaits its result; a partition that cannot serve answers UNAVAILABLE.</summary>
    public async Task<T> RunAsync<T>(PartitionWork<T> work, CancellationToken cancellationToken)
    {
        try
        {
            await EnqueueAsync(work, cancellationToken).ConfigureAwait(false);
            return await work.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PartitionUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        catch (ChannelClosedException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "resolver is stopping"));
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        await RecoverAsync(stopping).ConfigureAwait(false);
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                if (Failure is not null && _failureIsTransient)
                {
                    // Callers hear UNAVAILABLE at once while the store is away; the loop keeps trying it.
                    RefuseQueued(reader);
                    await Task.Delay(_retryDelay, _time, stopping).ConfigureAwait(false);
                    _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                    await RecoverAsync(stopping).ConfigureAwait(false);
                    continue;
                }
                if (!await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
                {
                    break;
                }
                if (Failure is not null)
                {
                    RefuseQueued(reader);
                    continue;
                }
                await RunTurnAsync(reader, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var abandoned))
        {
            abandoned.Fail(new PartitionUnavailableException(Id, "resolver is stopping"));
        }
    }

    private void RefuseQueued(ChannelReader<PartitionWork> reader)
    {
        while (reader.TryRead(out var refused))
        {
            refused.Fail(new PartitionUnavailableException(Id, Failure!));
        }
    }

    private async Task RunTurnAsync(ChannelReader<PartitionWork> reader, CancellationToken stopping)
    {
        State.UseFlags(_flags());
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

        var record = State.TakeLogRecord();
        if (record is not null)
        {
            try
            {
                await _log!.AppendAsync([record.ToByteArray()], stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                // The turn changed memory but is not durable: nobody may see it. Refuse the turn and
                // rebuild the state from what the store holds.
                Log.AppendFailed(_logger, Id, ex);
                FailTurn(new PartitionUnavailableException(Id, "the event log could not be written; retry"));
                await RecoverAsync(stopping).ConfigureAwait(false);
                return;
            }
            _eventsSinceSnapshot += State.TakeEventsInTurn();
        }

        State.PublishScoreChanges();
        foreach (var work in _turn)
        {
            work.Complete();
        }
        _turn.Clear();

        if (_eventsSinceSnapshot >= _storage.SnapshotEveryEvents)
        {
            await SnapshotAsync(stopping).ConfigureAwait(false);
        }
    }

    private void FailTurn(Exception error)
    {
        foreach (var work in _turn)
        {
            work.Fail(error);
        }
        _turn.Clear();
    }

    // Snapshots are written between turns, so the state they capture is exactly the log up to here.
    private async Task SnapshotAsync(CancellationToken stopping)
    {
        try
        {
            var position = _log!.NextPosition;
            await _log.WriteSnapshotAsync(position, PartitionImages.Capture(State, position), stopping).ConfigureAwait(false);
            _eventsSinceSnapshot = 0;
            Log.SnapshotWritten(_logger, Id, position);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // The log still holds everything; a failed snapshot only makes the next recovery longer.
            Log.SnapshotFailed(_logger, Id, ex);
        }
    }

    /// <summary>
    /// Opens the log, loads the newest snapshot and replays the entries after it. A partition that
    /// cannot be recovered is not served: every call to it fails with the reason, never with wrong state.
    /// </summary>
    private async Task RecoverAsync(CancellationToken stopping)
    {
        var subscribers = State.CloseSubscribers();
        try
        {
            if (_log is not null)
            {
                await _log.DisposeAsync().ConfigureAwait(false);
                _log = null;
            }
            var started = Environment.TickCount64;
            _log = await _store.OpenAsync(Id, _storage.Epoch, stopping).ConfigureAwait(false);
            var state = new PartitionState(Id, _options) { Replaying = true };
            var from = _log.FirstPosition;
            var snapshot = await _log.ReadLatestSnapshotAsync(stopping).ConfigureAwait(false);
            if (snapshot is not null)
            {
                PartitionImages.Restore(state, snapshot.State.Span);
                from = snapshot.Position;
            }
            else if (_log.FirstPosition > 1)
            {
                throw new InvalidDataException($"the log starts at entry {_log.FirstPosition} and no snapshot covers what came before");
            }
            long replayed = 0;
            await foreach (var entry in _log.ReadAsync(from, stopping).ConfigureAwait(false))
            {
                var record = LogRecord.Parser.ParseFrom(entry.Data.Span);
                if (record.Flags is not null)
                {
                    state.Flags = PartitionImages.FromImage(record.Flags);
                }
                foreach (var batch in record.Batches)
                {
                    ApplyWork.ApplyInputs(state, batch, reply: null);
                }
                replayed++;
            }
            state.Replaying = false;
            state.TakeEventsInTurn();
            State = state;
            Failure = null;
            _retryDelay = MinRetryDelay;
            Log.Recovered(_logger, Id, snapshot?.Position ?? 0, replayed, Environment.TickCount64 - started);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // A damaged log, a newer owner or undecodable data will not mend by waiting: the partition
            // stays down and says why. Anything else is the store being away, and is tried again.
            _failureIsTransient = ex is not (LogCorruptedException or FencedException or InvalidDataException or InvalidProtocolBufferException);
            var reason = ex switch
            {
                InvalidProtocolBufferException => "a log entry or snapshot does not decode: " + ex.Message,
                _ when _failureIsTransient => "storage unavailable: " + ex.Message,
                _ => ex.Message,
            };
            if (reason != Failure)
            {
                Log.RecoveryFailed(_logger, Id, reason, ex);
            }
            Failure = reason;
        }
        finally
        {
            _ready.TrySetResult();
        }
        foreach (var subscriber in subscribers)
        {
            subscriber.Close(new PartitionUnavailableException(Id, "partition was rebuilt; subscribe again"));
        }
    }
}

/// <summary>The partition cannot serve right now; the caller hears UNAVAILABLE with the reason.</summary>
public sealed class PartitionUnavailableException(int partition, string reason)
    : Exception($"partition {partition} is not available: {reason}");

/// <summary>The state a partition loop owns: worlds, score-feed subscribers, counters.</summary>
public sealed class PartitionState(int id, ResolverOptions options)
{
    private readonly Dictionary<string, World> _worlds = new(StringComparer.Ordinal);
    private readonly List<ScoreFeedSubscriber> _subscribers = [];
    private readonly List<ScoreChangeMessage> _changes = [];
    private LogRecord? _record;
    private long _eventsInTurn;
    private bool _flagsUnlogged;

    public int Id { get; } = id;
    public ResolverOptions Options { get; } = options;
    public IReadOnlyCollection<World> Worlds => _worlds.Values;

    // Written by the loop only; read (racily, 64-bit) by metrics.
    internal long Accepted;
    internal long Rejected;
    internal long Duplicates;
    internal long Malformed;
    internal long Spawns;

    /// <summary>The flag version this partition applies under; logged with the first entry that uses it.</summary>
    public FlagSet Flags { get; internal set; } = FlagSet.Defaults();

    /// <summary>Switches to a newer flag version between turns.</summary>
    internal void UseFlags(FlagSet flags)
    {
        if (flags.Version > Flags.Version)
        {
            Flags = flags;
            _flagsUnlogged = true;
        }
    }

    /// <summary>True while recovery replays the log: nothing is logged again or published.</summary>
    internal bool Replaying { get; set; }

    /// <summary>Keeps a batch's inputs for this turn's log entry.</summary>
    internal void RecordInput(Veltrix.Contracts.Internal.ApplyBatch batch)
    {
        if (!Replaying)
        {
            if (_record is null)
            {
                _record = new LogRecord();
                if (_flagsUnlogged)
                {
                    _record.Flags = PartitionImages.ToImage(Flags);
                    _flagsUnlogged = false;
                }
            }
            _record.Batches.Add(batch);
            _eventsInTurn += batch.Events.Count + batch.Spawns.Count;
        }
    }

    /// <summary>This turn's log entry, or null when the turn changed nothing that needs logging.</summary>
    internal LogRecord? TakeLogRecord()
    {
        var record = _record;
        _record = null;
        return record;
    }

    internal long TakeEventsInTurn()
    {
        var n = _eventsInTurn;
        _eventsInTurn = 0;
        return n;
    }

    internal List<ScoreFeedSubscriber> CloseSubscribers()
    {
        var all = new List<ScoreFeedSubscriber>(_subscribers);
        _subscribers.Clear();
        _changes.Clear();
        return all;
    }

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
        if (!Replaying && _subscribers.Count > 0)
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
