using System.Buffers;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Veltrix.Contracts.Storage;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;
using Veltrix.Domain;
using Veltrix.Resolver.Rollback;
using Veltrix.Storage;
using ScoreChangeMessage = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver;

/// <summary>
/// One partition: the worlds it owns and the single loop that is their only writer. Everything that
/// touches game state, reads included, runs as a <see cref="PartitionWork"/> on that loop, so state
/// needs no locks and the order of the queue is the order of the game. Each turn of the loop applies
/// what is queued, appends the turn's inputs to the durable log in one append, and only then answers.
/// </summary>
public sealed class Partition : IDisposable
{
    private readonly Channel<PartitionWork> _queue;
    private readonly ResolverOptions _options;
    private readonly StorageOptions _storage;
    private readonly IPartitionStore _store;
    private readonly Func<FlagSet> _flags;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<PartitionWork> _turn = [];
    private readonly SemaphoreSlim _rollbackGate = new(1, 1);
    private PartitionWork? _held;
    private readonly SnapshotCompactor _snapshots;
    private readonly ReadOnlyMemory<byte>[] _entry = new ReadOnlyMemory<byte>[1];
    private byte[] _entryBuffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IPartitionLog? _log;
    private long _eventsSinceSnapshot;
    // Events until the next snapshot: the first comes later the higher the partition's id (by up to 7/8 of the
    // interval), so that partitions taking the same load do not all stop to copy their state in the same turn.
    private long _snapshotDue;
    private bool _failureIsTransient;
    private TimeSpan _retryDelay = MinRetryDelay;
    private Task _loop = Task.CompletedTask;

    // First snapshots are spread over this many slices of the snapshot interval, by partition id.
    private const int SnapshotStagger = 8;

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
        ILogger logger,
        SemaphoreSlim? snapshotGate = null)
    {
        _time = time;
        Id = id;
        _options = options;
        _storage = storage;
        _store = store;
        _flags = flags;
        _logger = logger;
        State = new PartitionState(id, options);
        _snapshotDue = storage.SnapshotEveryEvents + storage.SnapshotEveryEvents / SnapshotStagger * (id % SnapshotStagger);
        _snapshots = new SnapshotCompactor(id, storage, time, logger,
            (before, cancellationToken) => RunAsync(new TrimWork(before), cancellationToken), snapshotGate);
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
        await _snapshots.WaitAsync().ConfigureAwait(false);
        if (_log is not null)
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => _rollbackGate.Dispose();

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

    /// <summary>
    /// Rolls a world back (DESIGN.md section 4): planned off the loop, so the partition's other worlds are
    /// served meanwhile, then committed on the loop as one log entry. One rollback at a time per partition.
    /// </summary>
    /// <returns>The report, or null when the world does not exist.</returns>
    public async Task<RollbackReport?> RollbackAsync(RollbackRequest request, string actor, RollbackAudit audit, CancellationToken cancellationToken)
    {
        await _rollbackGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = Environment.TickCount64;
            var start = await RunAsync(new RollbackStartWork(request.WorldId), cancellationToken).ConfigureAwait(false);
            if (start is null)
            {
                return null;
            }
            WorldRewrite rewrite;
            try
            {
                rewrite = await RollbackPlanner.PlanAsync(Id, start, request, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"partition {Id} was rebuilt while the rollback was planned; try again"));
            }
            var commit = new RollbackCommitWork(rewrite, start.Log, request, actor, _time);
            var report = await RunAsync(commit, cancellationToken).ConfigureAwait(false);
            if (commit.Committed is { } committed)
            {
                try
                {
                    await audit.RecordAsync(committed, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StackExchange.Redis.RedisException or TimeoutException)
                {
                    // The commit and its audit are in the log already; only the copy that outlives the log is missing.
                    Log.AuditFailed(_logger, Id, report.AuditId, ex);
                }
            }
            Log.RolledBack(_logger, Id, request.WorldId, request.DryRun, report.AuditId, actor, request.Reason,
                (long)report.EventsVoided, (long)report.EventsReplayed, report.Players.Count, report.Treasures.Count,
                Environment.TickCount64 - started);
            return report;
        }
        finally
        {
            _rollbackGate.Release();
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
                if (_held is null && !await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
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
        if (TakeHeld(out var held))
        {
            held.Fail(new PartitionUnavailableException(Id, "resolver is stopping"));
        }
        while (reader.TryRead(out var abandoned))
        {
            abandoned.Fail(new PartitionUnavailableException(Id, "resolver is stopping"));
        }
    }

    private void RefuseQueued(ChannelReader<PartitionWork> reader)
    {
        if (TakeHeld(out var held))
        {
            held.Fail(new PartitionUnavailableException(Id, Failure!));
        }
        while (reader.TryRead(out var refused))
        {
            refused.Fail(new PartitionUnavailableException(Id, Failure!));
        }
    }

    private async Task RunTurnAsync(ChannelReader<PartitionWork> reader, CancellationToken stopping)
    {
        State.UseFlags(_flags());
        while (_turn.Count < _options.MaxItemsPerTurn && (TakeHeld(out var work) || reader.TryRead(out work)))
        {
            if (work.TakesOwnTurn)
            {
                // Work that reads the log or rewrites a world takes a turn of its own: the log then holds
                // every input applied before it, and nothing else shares its entry.
                if (_turn.Count > 0)
                {
                    _held = work;
                    break;
                }
                try
                {
                    await work.RunOnLoopAsync(State, _log!, stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    work.Fail(ex);
                    State.Entry.Clear();
                    break;
                }
                _turn.Add(work);
                break;
            }
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

        var entry = State.Entry;
        if (entry.Started)
        {
            try
            {
                // Entries of busy turns are hundreds of KiB: one pooled buffer, reused turn after turn, keeps
                // them off the large-object heap (and out of gen2 collections).
                var size = entry.CalculateSize();
                if (_entryBuffer.Length < size)
                {
                    ArrayPool<byte>.Shared.Return(_entryBuffer);
                    _entryBuffer = ArrayPool<byte>.Shared.Rent(size);
                }
                entry.WriteTo(_entryBuffer.AsSpan(0, size));
                entry.Clear();
                _entry[0] = _entryBuffer.AsMemory(0, size);
                await _log!.AppendAsync(_entry, stopping).ConfigureAwait(false);
                State.NextPosition = _log.NextPosition;
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

        if (_eventsSinceSnapshot >= _snapshotDue && !_snapshots.Running)
        {
            // Between turns the state is exactly the log's up to its end: a copy of it is the snapshot at that position.
            var copying = Environment.TickCount64;
            var copy = PartitionCopy.Take(State);
            _snapshots.Start(_log!, copy, State.NextPosition, _eventsSinceSnapshot, Environment.TickCount64 - copying, stopping);
            _eventsSinceSnapshot = 0;
            _snapshotDue = _storage.SnapshotEveryEvents;
        }
    }

    private bool TakeHeld(out PartitionWork work)
    {
        work = _held!;
        _held = null;
        return work is not null;
    }

    private void FailTurn(Exception error)
    {
        foreach (var work in _turn)
        {
            work.Fail(error);
        }
        _turn.Clear();
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
            var (snapshot, replayed, position) = await PartitionReplay.RebuildAsync(state, _log, stopping).ConfigureAwait(false);
            state.Replaying = false;
            state.NextPosition = position;
            state.TakeEventsInTurn();
            State = state;
            Failure = null;
            _retryDelay = MinRetryDelay;
            Log.Recovered(_logger, Id, snapshot, replayed, Environment.TickCount64 - started);
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
public sealed class PartitionState
{
    private readonly Dictionary<string, World> _worlds = new(StringComparer.Ordinal);
    private readonly List<ScoreFeedSubscriber> _subscribers = [];
    private readonly List<ScoreChangeMessage> _changes = [];
    private readonly TurnEntry _entry = new();
    private readonly Dictionary<string, World>.AlternateLookup<ReadOnlySpan<char>> _worldsBySpan;
    private long _eventsInTurn;
    private bool _flagsUnlogged;

    public PartitionState(int id, ResolverOptions options)
    {
        Id = id;
        Options = options;
        _worldsBySpan = _worlds.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Id { get; }
    public ResolverOptions Options { get; }

    /// <summary>Reads the batches the loop applies, one after another.</summary>
    internal BatchLayout Layout { get; } = new();

    /// <summary>Reads the logged entries a replay applies, one after another.</summary>
    internal LoggedEntry Logged { get; } = new();

    /// <summary>This turn's log entry; <see cref="TurnEntry.Started"/> once the turn changed something that is logged.</summary>
    internal TurnEntry Entry => _entry;
    public IReadOnlyCollection<World> Worlds => _worlds.Values;

    // Written by the loop only; read (racily, 64-bit) by metrics.
    internal long Accepted;
    internal long Rejected;
    internal long Duplicates;
    internal long Malformed;
    internal long Spawns;

    /// <summary>The flag version this partition applies under; logged with the first entry that uses it.</summary>
    public FlagSet Flags { get; internal set; } = FlagSet.Defaults();

    /// <summary>The latest stamp of any input applied: snapshots record it so a rollback can find one taken before its window.</summary>
    public long MaxStampMs { get; internal set; }

    /// <summary>The log position this turn's entry will get; everything before it is durable.</summary>
    public long NextPosition { get; internal set; } = 1;

    /// <summary>Rollbacks committed in the retained log, oldest first: a later rollback voids their events again.</summary>
    internal List<RollbackMark> Rollbacks { get; } = [];

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

    /// <summary>Keeps a batch's bytes for this turn's log entry; they must stay unchanged until the entry is written.</summary>
    internal void RecordInput(ReadOnlyMemory<byte> batch, int inputs)
    {
        if (!Replaying)
        {
            StartEntry();
            _entry.AddBatch(batch);
            _eventsInTurn += inputs;
        }
    }

    private void StartEntry()
    {
        _entry.Start(_flagsUnlogged ? PartitionImages.ToImage(Flags) : null);
        _flagsUnlogged = false;
    }

    /// <summary>
    /// Puts a rewritten world in place and logs the rollback as this turn's entry; the caller made it the
    /// only work of its turn. Recovery replays the same record through here.
    /// </summary>
    internal void CommitRollback(RollbackRecord record)
    {
        var world = PartitionImages.RestoreWorld(record.World);
        if (!Replaying)
        {
            foreach (var change in RollbackDiff.ScoreChanges(FindWorld(world.Id), world))
            {
                if (_subscribers.Count > 0)
                {
                    _changes.Add(change);
                }
            }
            StartEntry();
            _entry.SetRollback(record);
        }
        _worlds[world.Id] = world;
        Rollbacks.Add(record.Mark);
    }

    /// <summary>Forgets rollbacks whose entry was trimmed from the log: no replay can cross them any more.</summary>
    internal void ForgetRollbacksBefore(long firstPosition) =>
        Rollbacks.RemoveAll(m => (long)m.Position < firstPosition);

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

    /// <summary>Adds <paramref name="world"/>, or replaces the world of that id; false when a new one would exceed the limit.</summary>
    internal bool PutWorld(World world)
    {
        if (!_worlds.ContainsKey(world.Id) && _worlds.Count >= Options.MaxWorldsPerPartition)
        {
            return false;
        }
        _worlds[world.Id] = world;
        return true;
    }

    public World? GetOrAddWorld(string worldId) => GetOrAddWorld(worldId.AsSpan());

    /// <summary>The world of this id, or a new one; null when a new one would exceed the limit. Allocates only for a new world.</summary>
    public World? GetOrAddWorld(ReadOnlySpan<char> worldId)
    {
        if (_worldsBySpan.TryGetValue(worldId, out var world))
        {
            return world;
        }
        if (_worlds.Count >= Options.MaxWorldsPerPartition)
        {
            return null;
        }
        var id = worldId.ToString();
        world = new World(id, WorldRules.Default);
        _worlds.Add(id, world);
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
