using Grpc.Core;
using Veltrix.Contracts.Internal;
using Veltrix.Domain;
using Veltrix.ServiceDefaults;

namespace Veltrix.SpawnTimer.Scheduling;

/// <summary>How a <see cref="SpawnScheduler"/> behaves; plain values, so any host (or actor) can supply them.</summary>
internal sealed record SpawnSchedulerSettings
{
    public required int Partitions { get; init; }
    public int MaxPending { get; init; } = 1_000_000;
    public int MaxBatchSpawns { get; init; } = 1024;
    public TimeSpan RetryMin { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(1);
}

internal enum ScheduleStatus
{
    Scheduled,

    /// <summary>The treasure id is already pending in that world with the same position and value.</summary>
    AlreadyPending,

    /// <summary>The treasure id is already pending in that world with another position or value.</summary>
    Conflict,

    /// <summary>As many spawns as allowed are pending.</summary>
    Full,
}

internal readonly record struct ScheduleOutcome(ScheduleStatus Status, string TreasureId, long DueMs);

internal readonly record struct PendingPage(List<ScheduledSpawn> Spawns, int Total);

/// <summary>
/// Fires pending spawns into their partitions' ordered streams, never before they are due.
/// <para>
/// One one-shot timer is armed for the earliest waiting spawn. When it fires, every due spawn moves to the
/// outbox of the partition that owns its world; each partition sends at most one batch at a time, so spawns
/// that fall due while a batch is in flight ride in the next one. A spawn leaves the pending set only when
/// its partition has acknowledged its batch; a failed batch stays at the head of its outbox and is sent again
/// after a capped exponential backoff, while the other partitions go on. Re-sending is safe: a world ignores
/// treasure ids it has already seen.
/// </para>
/// <para>
/// All state is behind one gate held only for in-memory work; sends run outside it. Nothing here knows about
/// hosting: time comes from a <see cref="TimeProvider"/>, partitions are reached through an <see cref="ISpawnSink"/>.
/// </para>
/// </summary>
internal sealed class SpawnScheduler : IDisposable
{
    // A timer can be armed for about 49 days at most; waking early only means arming again.
    private const long MaxTimerDelayMs = 24L * 60 * 60 * 1000;

    private readonly Lock _gate = new();
    private readonly ISpawnSink _sink;
    private readonly TimeProvider _time;
    private readonly SpawnSchedulerSettings _settings;
    private readonly TreasureIds _ids;
    private readonly ILogger _logger;
    private readonly PendingSpawns _pending = new();
    private readonly PartitionOutbox[] _outboxes;
    private readonly ITimer _dueTimer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private long _armedDueMs = long.MaxValue;
    private long _lastNowMs = long.MinValue;
    private bool _disposed;

    private long _scheduled;
    private long _fired;
    private long _sendFailures;
    private long _rejected;

    public SpawnScheduler(ISpawnSink sink, TimeProvider time, SpawnSchedulerSettings settings, TreasureIds ids, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxPending, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatchSpawns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.RetryMin, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.RetryMax, settings.RetryMin);
        _sink = sink;
        _time = time;
        _settings = settings;
        _ids = ids;
        _logger = logger;
        _stoppingToken = _stopping.Token;
        _outboxes = new PartitionOutbox[settings.Partitions];
        for (var i = 0; i < _outboxes.Length; i++)
        {
            _outboxes[i] = new PartitionOutbox(i);
        }
        _dueTimer = CreateTimer(static state => ((SpawnScheduler)state!).Pump(fromTimer: true), this);
    }

    /// <summary>Spawns accepted since start.</summary>
    public long ScheduledTotal => Interlocked.Read(ref _scheduled);

    /// <summary>Spawns their partition acknowledged since start.</summary>
    public long FiredTotal => Interlocked.Read(ref _fired);

    /// <summary>Batches that failed and wait for a retry.</summary>
    public long SendFailuresTotal => Interlocked.Read(ref _sendFailures);

    /// <summary>Schedule requests turned away because <see cref="SpawnSchedulerSettings.MaxPending"/> spawns were pending.</summary>
    public long RejectedTotal => Interlocked.Read(ref _rejected);

    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    public int MaxPending => _settings.MaxPending;

    /// <summary>
    /// Adds a spawn due at <see cref="SpawnRequest.AtMs"/> (a time in the past means now), naming it when the
    /// request does not. The caller has validated the request.
    /// </summary>
    public ScheduleOutcome Schedule(in SpawnRequest request)
    {
        var partition = Partitioning.PartitionOf(request.WorldId, _settings.Partitions);
        var named = !string.IsNullOrEmpty(request.TreasureId);
        var clock = ReadClock();
        ScheduleOutcome outcome;
        bool dueNow;
        lock (_gate)
        {
            var now = NowLocked(clock);
            if (named && _pending.TryFind(request.WorldId, request.TreasureId!, out var twin))
            {
                // A retried ScheduleOnce must not become a second spawn, nor move the first one.
                var same = twin.X == request.X && twin.Y == request.Y && twin.Value == request.Value;
                return new ScheduleOutcome(same ? ScheduleStatus.AlreadyPending : ScheduleStatus.Conflict, twin.TreasureId, twin.DueMs);
            }
            if (_pending.Count >= _settings.MaxPending)
            {
                Interlocked.Increment(ref _rejected);
                return new ScheduleOutcome(ScheduleStatus.Full, request.TreasureId ?? "", 0);
            }

            var id = named ? request.TreasureId! : NewIdLocked(request.WorldId);
            var due = Math.Max(request.AtMs, now);
            _pending.Add(request.WorldId, id, request.X, request.Y, request.Value, due, partition);
            Interlocked.Increment(ref _scheduled);
            dueNow = due <= now;
            if (!dueNow && due < _armedDueMs)
            {
                ArmLocked(due, now);
            }
            outcome = new ScheduleOutcome(ScheduleStatus.Scheduled, id, due);
        }
        if (dueNow)
        {
            Pump(fromTimer: false);
        }
        return outcome;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> pending spawns (fired but unacknowledged ones included) of one world, or of
    /// every world when <paramref name="worldId"/> is null, by due time; and how many are pending there in all.
    /// </summary>
    public PendingPage ListPending(string? worldId, int limit)
    {
        var spawns = new List<ScheduledSpawn>(limit);
        int total;
        lock (_gate)
        {
            total = _pending.CopyInDueOrder(worldId, limit, spawns);
        }
        return new PendingPage(spawns, total);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _dueTimer.Dispose();
            foreach (var outbox in _outboxes)
            {
                outbox.RetryTimer?.Dispose();
            }
        }
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void Pump(bool fromTimer)
    {
        List<(PartitionOutbox Outbox, ApplyBatch Batch)>? starts = null;
        var clock = ReadClock();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            if (fromTimer)
            {
                // The one-shot timer is spent, whichever due time it was armed for.
                _armedDueMs = long.MaxValue;
            }
            var now = NowLocked(clock);
            List<PartitionOutbox>? woken = null;
            while (_pending.TryTakeDue(now, out var spawn))
            {
                var outbox = _outboxes[_pending.PartitionOf(spawn)];
                if (!outbox.Busy)
                {
                    // An idle outbox is empty; a busy one sends what it holds when its batch completes.
                    outbox.Busy = true;
                    (woken ??= []).Add(outbox);
                }
                outbox.Queue.Enqueue(spawn);
            }
            if (woken is not null)
            {
                starts = new List<(PartitionOutbox, ApplyBatch)>(woken.Count);
                foreach (var outbox in woken)
                {
                    starts.Add((outbox, BeginBatchLocked(outbox, now)));
                }
            }
            var next = _pending.NextDueMs;
            if (next != _armedDueMs)
            {
                ArmLocked(next, now);
            }
        }
        if (starts is not null)
        {
            foreach (var (outbox, batch) in starts)
            {
                _ = DeliverAsync(outbox, batch);
            }
        }
    }

    // One loop per busy partition: send, then take the acknowledged spawns off, then send what queued meanwhile.
    private async Task DeliverAsync(PartitionOutbox outbox, ApplyBatch? batch)
    {
        while (batch is not null)
        {
            Exception? failure = null;
            try
            {
                await _sink.SendAsync(batch, _stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever went wrong, the spawns stay pending and are sent again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            var count = batch.Spawns.Count;
            var clock = ReadClock();
            int attempts;
            TimeSpan retryIn = default;
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                attempts = outbox.Attempts;
                if (failure is null)
                {
                    batch = AckLocked(outbox, NowLocked(clock));
                }
                else
                {
                    batch = null;
                    retryIn = BackOffLocked(outbox);
                    attempts = outbox.Attempts;
                }
            }

            if (failure is null)
            {
                if (attempts > 0)
                {
                    Log.PartitionRecovered(_logger, outbox.Partition, attempts);
                }
            }
            else if (failure is RpcException rpc)
            {
                Log.SendFailed(_logger, outbox.Partition, count, attempts, (long)retryIn.TotalMilliseconds, rpc.StatusCode, rpc.Status.Detail);
            }
            else
            {
                Log.SendFaulted(_logger, failure, outbox.Partition, count, attempts, (long)retryIn.TotalMilliseconds);
            }
        }
    }

    private void OnRetryDue(object? state)
    {
        var outbox = (PartitionOutbox)state!;
        var clock = ReadClock();
        ApplyBatch batch;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            // The failed spawns are still at the head of the outbox: they go first, with any that queued behind.
            batch = BeginBatchLocked(outbox, NowLocked(clock));
        }
        _ = DeliverAsync(outbox, batch);
    }

    private ApplyBatch BeginBatchLocked(PartitionOutbox outbox, long nowMs)
    {
        var count = Math.Min(outbox.Queue.Count, _settings.MaxBatchSpawns);
        var batch = new ApplyBatch { Partition = (uint)outbox.Partition };
        foreach (var spawn in outbox.Queue)
        {
            if (batch.Spawns.Count == count)
            {
                break;
            }
            // The stamp is when the spawn entered the stream; it is never before the spawn was due.
            batch.Spawns.Add(_pending.ToMessage(spawn, nowMs));
        }
        outbox.InFlight = count;
        outbox.Busy = true;
        return batch;
    }

    private ApplyBatch? AckLocked(PartitionOutbox outbox, long nowMs)
    {
        for (var i = 0; i < outbox.InFlight; i++)
        {
            _pending.Remove(outbox.Queue.Dequeue());
        }
        Interlocked.Add(ref _fired, outbox.InFlight);
        outbox.InFlight = 0;
        outbox.Attempts = 0;
        if (outbox.Queue.Count == 0)
        {
            outbox.Busy = false;
            return null;
        }
        return BeginBatchLocked(outbox, nowMs);
    }

    private TimeSpan BackOffLocked(PartitionOutbox outbox)
    {
        Interlocked.Increment(ref _sendFailures);
        outbox.InFlight = 0;
        outbox.Attempts++;
        var doublings = Math.Min(outbox.Attempts - 1, 30);
        var delayMs = Math.Min((long)_settings.RetryMax.TotalMilliseconds, (long)_settings.RetryMin.TotalMilliseconds << doublings);
        var delay = TimeSpan.FromMilliseconds(delayMs);
        outbox.RetryTimer ??= CreateTimer(OnRetryDue, outbox);
        outbox.RetryTimer.Change(delay, Timeout.InfiniteTimeSpan);
        return delay;
    }

    private void ArmLocked(long dueMs, long nowMs)
    {
        if (_disposed)
        {
            return;
        }
        _armedDueMs = dueMs;
        // Never a zero delay: some timers call back synchronously for it, and this runs under the gate.
        var delay = dueMs == long.MaxValue
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromMilliseconds(Math.Clamp(dueMs - nowMs, 1, MaxTimerDelayMs));
        _dueTimer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    // Read outside the gate: a test clock may run due timer callbacks from inside GetUtcNow.
    private long ReadClock() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // Timers may wake a little early and wall clocks may step back, and clocks read just before taking the
    // gate arrive out of order; due checks use a time that never goes back and was really observed.
    private long NowLocked(long clockMs)
    {
        var now = clockMs;
        if (now < _lastNowMs)
        {
            now = _lastNowMs;
        }
        _lastNowMs = now;
        return now;
    }

    private string NewIdLocked(string worldId)
    {
        var id = _ids.Next();
        while (_pending.TryFind(worldId, id, out _))
        {
            id = _ids.Next();
        }
        return id;
    }

    private ITimer CreateTimer(TimerCallback callback, object state) =>
        DetachedTimer.Create(_time, callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private sealed class PartitionOutbox(int partition)
    {
        public int Partition { get; } = partition;

        /// <summary>
        /// Handles of fired, unacknowledged spawns in fire order; the first <see cref="InFlight"/> are being sent.
        /// </summary>
        public Queue<int> Queue { get; } = new();

        public int InFlight { get; set; }

        /// <summary>A batch is in flight or a retry is waiting; new due spawns only queue.</summary>
        public bool Busy { get; set; }

        /// <summary>Failed sends in a row.</summary>
        public int Attempts { get; set; }

        public ITimer? RetryTimer { get; set; }
    }
}
