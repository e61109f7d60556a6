using System.Collections.Concurrent;
using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench;

/// <summary>What the load generator sends.</summary>
public sealed record LoadSettings
{
    /// <summary>Ingest.Publish streams, each with its own players.</summary>
    public int Streams { get; init; } = 8;

    /// <summary>Events per EventBatch.</summary>
    public int Batch { get; init; } = 256;

    /// <summary>Batches a stream may have sent and not had answered.</summary>
    public int InFlight { get; init; } = 4;

    /// <summary>Events per second over all streams; null sends flat out (as fast as the in-flight limit allows).</summary>
    public double? Rate { get; init; }

    /// <summary>Simulated players, spread over the streams.</summary>
    public int Players { get; init; } = 16_384;

    /// <summary>Worlds the players are spread over (and through them, partitions).</summary>
    public int Worlds { get; init; } = 64;

    /// <summary>Every n-th event of a player after its Join is a Dig.</summary>
    public int DigEvery { get; init; } = 64;

    /// <summary>The deadline of each Publish call: longer than the whole run.</summary>
    public TimeSpan StreamLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a stream waits for its last acks once sending stopped.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often one stream may be reopened after it broke, before it gives up.</summary>
    public int MaxReconnects { get; init; } = 3;

    /// <summary>
    /// Batches one stream sends at most, whatever the clock says: 10 minutes at the transport ceiling
    /// (about 3 M events/s over 8 streams of 256) is under a million.
    /// </summary>
    public long MaxBatchesPerStream { get; init; } = 20_000_000;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Streams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InFlight);
        ArgumentOutOfRangeException.ThrowIfLessThan(Players, Streams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Worlds);
        ArgumentOutOfRangeException.ThrowIfNegative(DigEvery);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxReconnects);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBatchesPerStream);
        if (Rate is { } rate)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        }
    }
}

/// <summary>
/// Simulated players over several Ingest.Publish streams, at a fixed rate or flat out, with a bounded
/// number of batches in flight per stream. Every ack is matched to its batch by id; each batch's latency
/// runs from its send (or, at a fixed rate, its intended send: <see cref="PacingSchedule"/>) to its ack.
/// The same code drives the mesh and the bare sink, so the two figures compare like with like.
/// </summary>
public sealed class LoadGenerator : IAsyncDisposable
{
    private static readonly TimeSpan ReconnectBackoff = TimeSpan.FromMilliseconds(200);

    private readonly Ingest.IngestClient _ingest;
    private readonly Func<TimeSpan, CancellationToken, CallOptions> _callOptions;
    private readonly LoadSettings _settings;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly List<Task> _streams = [];
    private Task? _stopping;

    /// <summary>
    /// Load on <paramref name="ingest"/> (the gateway's client, or the sink's); <paramref name="callOptions"/> makes
    /// the options of one call from its timeout (headers, deadline).
    /// </summary>
    public LoadGenerator(Ingest.IngestClient ingest, Func<TimeSpan, CancellationToken, CallOptions> callOptions, LoadSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        ArgumentNullException.ThrowIfNull(callOptions);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _ingest = ingest;
        _callOptions = callOptions;
        _settings = settings;
        _time = time ?? TimeProvider.System;
    }

    public LoadStats Stats { get; } = new();

    /// <summary>Opens the streams and starts sending.</summary>
    public void Start()
    {
        if (_streams.Count > 0)
        {
            throw new InvalidOperationException("already started");
        }
        var start = _time.GetTimestamp();
        var first = 0;
        for (var s = 0; s < _settings.Streams; s++)
        {
            // Players split as evenly as they go; the first streams take the remainder.
            var count = _settings.Players / _settings.Streams + (s < _settings.Players % _settings.Streams ? 1 : 0);
            var players = new PlayerGroup(first, count, _settings.Worlds, _settings.Batch, _settings.DigEvery);
            first += count;
            PacingSchedule? schedule = _settings.Rate is { } rate
                ? PacingSchedule.For(rate, _settings.Streams, s, _settings.Batch, start, _time.TimestampFrequency)
                : null;
            var index = s;
            _streams.Add(Task.Run(() => RunStreamAsync(index, players, schedule)));
        }
    }

    /// <summary>Stops sending, waits for the acks of what is in flight (bounded), and closes the streams.</summary>
    public Task StopAsync() => _stopping ??= StopCoreAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopSending.Dispose();
        _abort.Dispose();
    }

    private async Task StopCoreAsync()
    {
        await _stopSending.CancelAsync();
        var all = Task.WhenAll(_streams);
        try
        {
            // Each stream bounds its own drain; this only guards against a stream that hangs anyway.
            await all.WaitAsync(_settings.DrainTimeout + TimeSpan.FromSeconds(10), _time);
        }
        catch (TimeoutException)
        {
            await _abort.CancelAsync();
            await all;
        }
    }

    private async Task RunStreamAsync(int index, PlayerGroup players, PacingSchedule? schedule)
    {
        var batch = new EventBatch();
        long k = 0;
        for (var attempt = 0; attempt <= _settings.MaxReconnects && !_stopSending.IsCancellationRequested; attempt++)
        {
            if (attempt > 0)
            {
                try
                {
                    await Task.Delay(ReconnectBackoff, _time, _stopSending.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            var error = await RunCallAsync(index, players, schedule, batch, () => k < _settings.MaxBatchesPerStream ? k++ : -1);
            if (error is null)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One Publish call: sends until told to stop, the call breaks, or <paramref name="nextK"/> (the stream's next
    /// batch number) says −1 for the count bound; null when it ended cleanly.
    /// </summary>
    private async Task<string?> RunCallAsync(int index, PlayerGroup players, PacingSchedule? schedule, EventBatch batch, Func<long> nextK)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(_stopSending.Token);
        var call = _ingest.Publish(_callOptions(_settings.StreamLifetime, _abort.Token));
        Stats.OnStreamOpened();
        using var lane = new Lane(_settings.InFlight);
        var reader = ReadAcksAsync(call, lane, wake);
        string? error = null;
        try
        {
            while (true)
            {
                await lane.Slots.WaitAsync(wake.Token);
                var k = nextK();
                if (k < 0)
                {
                    // The count bound: stop sending as if told to, and drain.
                    break;
                }
                var intended = 0L;
                if (schedule is { } pacing)
                {
                    intended = pacing.IntendedAt(k);
                    var ahead = intended - _time.GetTimestamp();
                    if (ahead > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)ahead / _time.TimestampFrequency), _time, wake.Token);
                    }
                }
                var id = ((ulong)index << 40) | (ulong)k;
                players.Fill(batch, id, _time.GetUtcNow().ToUnixTimeMilliseconds());
                if (schedule is null)
                {
                    intended = _time.GetTimestamp();
                }
                lane.Pending[id] = new SentBatch(intended, batch.Events.Count);
                Stats.OnSent(batch.Events.Count);
                // The message is serialized by the time the write completes, so the batch can be refilled after it.
                await call.RequestStream.WriteAsync(batch, _abort.Token);
            }
        }
        catch (OperationCanceledException) when (wake.IsCancellationRequested && !_abort.IsCancellationRequested)
        {
            // Told to stop, or the reader found the call broken (then lane.Error says why).
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            error = Describe(e);
        }

        if (error is null && lane.Error is null)
        {
            try
            {
                // The server answers what it has, then ends the call, which ends the reader.
                lane.Completed = true;
                await call.RequestStream.CompleteAsync().WaitAsync(_settings.DrainTimeout, _time);
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or TimeoutException)
            {
                error = "closing the request stream: " + Describe(e);
            }
        }
        try
        {
            await reader.WaitAsync(_settings.DrainTimeout, _time);
        }
        catch (TimeoutException)
        {
            error ??= $"acks still missing {_settings.DrainTimeout.TotalSeconds:0} s after sending stopped";
        }
        // Disposing cancels the call if it still runs, which ends the reader; only then is what is left truly unanswered.
        call.Dispose();
        await reader;
        error ??= lane.Error;
        var unanswered = lane.UnansweredEvents();
        if (error is not null || unanswered > 0)
        {
            Stats.OnError(error ?? "the call ended with batches unanswered", unanswered);
        }
        return error;
    }

    private async Task ReadAcksAsync(AsyncDuplexStreamingCall<EventBatch, PublishAck> call, Lane lane, CancellationTokenSource wake)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var ack = call.ResponseStream.Current;
                var now = _time.GetTimestamp();
                if (!lane.Pending.TryRemove(ack.BatchId, out var sent))
                {
                    Stats.OnError($"ack for batch {ack.BatchId}, which is not in flight", 0);
                    continue;
                }
                lane.Slots.Release();
                var micros = (now - sent.Intended) * 1_000_000 / _time.TimestampFrequency;
                Stats.Latency.RecordValue(Math.Clamp(micros, 1, LoadStats.HighestLatencyUs));
                if (ack.Results.Count != sent.Events)
                {
                    Stats.OnError($"ack of batch {ack.BatchId} has {ack.Results.Count} results for {sent.Events} events", sent.Events);
                    continue;
                }
                Stats.OnAcked(LoadStats.Count(ack));
            }
            if (!lane.Completed)
            {
                lane.Error ??= "the server ended the call";
            }
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            lane.Error ??= Describe(e);
        }
        finally
        {
            // Wakes the writer if it waits for a slot or its next send time.
            try
            {
                await wake.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.GetType().Name + ": " + e.Message,
    };

    private readonly record struct SentBatch(long Intended, int Events);

    /// <summary>What one call has in flight: the batches sent and not answered, and the slots that bound them.</summary>
    private sealed class Lane(int inFlight) : IDisposable
    {
        public ConcurrentDictionary<ulong, SentBatch> Pending { get; } = new();
        public SemaphoreSlim Slots { get; } = new(inFlight, inFlight);
        public volatile string? Error;

        /// <summary>The writer has ended the requests: the server ending the call is then expected.</summary>
        public volatile bool Completed;

        public long UnansweredEvents()
        {
            long events = 0;
            foreach (var batch in Pending.Values)
            {
                events += batch.Events;
            }
            return events;
        }

        public void Dispose() => Slots.Dispose();
    }
}
