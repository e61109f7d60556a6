using System.Threading.Channels;
using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bots;

/// <summary>
/// Some of the bots and the one Publish stream they share. One loop owns the bots, the stream's writer
/// and the table of unacknowledged batches; ticks, acks, stream failures and GetPlayer answers all come
/// to it as messages, so nothing here needs a lock.
/// </summary>
internal sealed class BotLane : IDisposable
{
    // Each bot has at most one event in flight, so this only bounds how many ticks' batches wait for acks.
    private const int MaxPendingBatches = 16;
    private const int MaxSyncsInFlight = 16;
    private const long GoneForMs = 5_000;
    private const int MinBackoffMs = 100;
    private const int MaxBackoffMs = 5_000;
    // Every call has a deadline, streams too; the lane swaps in a new stream (BotSettings.StreamRotation) well
    // before it, at a moment with nothing in flight, so the deadline never cuts a stream with events outstanding.
    private static readonly TimeSpan StreamLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);

    private readonly Bot[] _bots;
    private readonly GatewayClients _gateway;
    private readonly BotSettings _settings;
    private readonly WorldView _worlds;
    private readonly FleetStats _stats;
    private readonly TimeProvider _time;
    private readonly Func<ulong> _nextBatchId;
    private readonly Channel<LaneMessage> _inbox = Channel.CreateBounded<LaneMessage>(
        new BoundedChannelOptions(4_096) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Dictionary<ulong, int[]> _pending = [];
    private readonly HashSet<string> _gone = [];
    private readonly Queue<(string Id, long AtMs)> _goneOrder = new();
    private readonly List<int> _members = [];
    private readonly CancellationTokenSource _streams = new();

    private AsyncDuplexStreamingCall<EventBatch, PublishAck>? _call;
    private int _generation;
    private long _openedAtMs;
    private long _reconnectAtMs;
    private int _backoffMs = MinBackoffMs;
    private int _syncsInFlight;
    private bool _draining;
    private long _drainUntilMs;

    public BotLane(Bot[] bots, GatewayClients gateway, BotSettings settings, WorldView worlds, FleetStats stats,
        TimeProvider time, Func<ulong> nextBatchId)
    {
        _bots = bots;
        _gateway = gateway;
        _settings = settings;
        _worlds = worlds;
        _stats = stats;
        _time = time;
        _nextBatchId = nextBatchId;
    }

    /// <summary>Stop sending; the lane finishes once the events in flight are acknowledged (or after a grace period).</summary>
    public void Drain() => _inbox.Writer.TryWrite(DrainMessage.Instance);

    public async Task RunAsync(CancellationToken abort)
    {
        using var ticker = new PeriodicTimer(_settings.Tick, _time);
        using var tickerStop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var ticks = TickAsync(ticker, tickerStop.Token);
        try
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync(abort))
            {
                var now = NowMs();
                switch (message)
                {
                    case TickMessage:
                        await OnTickAsync(now);
                        break;
                    case AckMessage ack when ack.Generation == _generation:
                        OnAck(ack.Ack, now);
                        break;
                    case BrokenMessage broken when broken.Generation == _generation:
                        OnBroken(broken.Reason, now);
                        break;
                    case SyncedMessage synced:
                        OnSynced(synced, now);
                        break;
                    case DrainMessage:
                        _draining = true;
                        _drainUntilMs = now + (long)DrainTimeout.TotalMilliseconds;
                        break;
                    default:
                        break;
                }
                if (_draining && (_pending.Count == 0 || now >= _drainUntilMs))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
        finally
        {
            await tickerStop.CancelAsync();
            await ticks;
            _inbox.Writer.TryComplete();
            await CloseAsync();
            await _streams.CancelAsync();
        }
    }

    private async Task TickAsync(PeriodicTimer ticker, CancellationToken cancellationToken)
    {
        try
        {
            while (await ticker.WaitForNextTickAsync(cancellationToken))
            {
                // A lane that is behind skips ticks rather than queueing them.
                _inbox.Writer.TryWrite(TickMessage.Instance);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task OnTickAsync(long now)
    {
        while (_goneOrder.TryPeek(out var oldest) && now - oldest.AtMs > GoneForMs)
        {
            _goneOrder.Dequeue();
            _gone.Remove(oldest.Id);
        }
        StartSyncs(now);
        if (_draining)
        {
            return;
        }
        if (_call is not null && now - _openedAtMs >= (long)_settings.StreamRotation.TotalMilliseconds)
        {
            if (_pending.Count > 0)
            {
                // Send nothing this tick so the acks catch up, then swap streams.
                return;
            }
            await CloseAsync();
        }
        if (_call is null)
        {
            if (now < _reconnectAtMs)
            {
                return;
            }
            Connect(now);
        }

        EventBatch? batch = null;
        for (var i = 0; i < _bots.Length && _pending.Count < MaxPendingBatches; i++)
        {
            var bot = _bots[i];
            var e = bot.NextEvent(now, _worlds.Open(bot.WorldIndex), _gone);
            if (e is null)
            {
                continue;
            }
            batch ??= new EventBatch { BatchId = _nextBatchId() };
            batch.Events.Add(e);
            _members.Add(i);
            if (batch.Events.Count == _settings.MaxBatch)
            {
                await SendAsync(batch, now);
                batch = null;
                if (_call is null)
                {
                    return;
                }
            }
        }
        if (batch is not null)
        {
            await SendAsync(batch, now);
        }
    }

    private async Task SendAsync(EventBatch batch, long now)
    {
        var members = _members.ToArray();
        _members.Clear();
        _pending[batch.BatchId] = members;
        _stats.OnSent(members.Length);
        try
        {
            using var timeout = new CancellationTokenSource(WriteTimeout, _time);
            using var write = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _streams.Token);
            await _call!.RequestStream.WriteAsync(batch, write.Token);
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            // The batch is in the pending table, so the failure accounts for it with the others.
            OnBroken("write failed: " + Describe(e), now);
        }
    }

    private void Connect(long now)
    {
        _generation++;
        _openedAtMs = now;
        _stats.OnStreamOpened();
        _call = _gateway.Ingest.Publish(_gateway.Call(StreamLifetime, _streams.Token));
        _ = ReadAcksAsync(_call, _generation);
    }

    private async Task ReadAcksAsync(AsyncDuplexStreamingCall<EventBatch, PublishAck> call, int generation)
    {
        string reason;
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                await _inbox.Writer.WriteAsync(new AckMessage(generation, call.ResponseStream.Current));
            }
            reason = "stream ended by the server";
        }
        catch (ChannelClosedException)
        {
            return;
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            reason = Describe(e);
        }
        _inbox.Writer.TryWrite(new BrokenMessage(generation, reason));
    }

    private void OnAck(PublishAck ack, long now)
    {
        if (!_pending.Remove(ack.BatchId, out var members))
        {
            return;
        }
        _backoffMs = MinBackoffMs;
        for (var i = 0; i < members.Length; i++)
        {
            var bot = _bots[members[i]];
            if (i < ack.Results.Count)
            {
                var result = ack.Results[i];
                var outcome = result.Outcome;
                _stats.OnOutcome(outcome, result.Reason);
                if (bot.OnResult(outcome) is { } gone && _gone.Add(gone))
                {
                    _goneOrder.Enqueue((gone, now));
                }
            }
            else
            {
                // Fewer results than events breaks the contract; treat the rest as unknown.
                _stats.OnLost(1);
                bot.OnLost();
            }
        }
    }

    private void OnBroken(string reason, long now)
    {
        if (_call is null)
        {
            return;
        }
        _stats.OnStreamFailure(reason);
        foreach (var members in _pending.Values)
        {
            _stats.OnLost(members.Length);
            foreach (var i in members)
            {
                _bots[i].OnLost();
            }
        }
        _pending.Clear();
        _call.Dispose();
        _call = null;
        _generation++;
        _reconnectAtMs = now + _backoffMs;
        _backoffMs = Math.Min(_backoffMs * 2, MaxBackoffMs);
    }

    private void StartSyncs(long now)
    {
        for (var i = 0; i < _bots.Length && _syncsInFlight < MaxSyncsInFlight; i++)
        {
            var bot = _bots[i];
            if (bot.Phase == BotPhase.NeedsSync && now >= bot.SyncNotBeforeMs && !bot.AwaitingResult)
            {
                bot.BeginSync();
                _syncsInFlight++;
                _ = SyncAsync(i, bot.WorldId, bot.PlayerId);
            }
        }
    }

    private async Task SyncAsync(int index, string worldId, string playerId)
    {
        SyncedMessage message;
        try
        {
            var state = await _gateway.Resolver.GetPlayerAsync(
                new GetPlayerRequest { WorldId = worldId, PlayerId = playerId },
                _gateway.Call(_settings.CallTimeout, _streams.Token));
            message = new SyncedMessage(index, state, Failed: false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            message = new SyncedMessage(index, null, Failed: false);
        }
        catch (RpcException)
        {
            message = new SyncedMessage(index, null, Failed: true);
        }
        try
        {
            await _inbox.Writer.WriteAsync(message);
        }
        catch (ChannelClosedException)
        {
        }
    }

    private void OnSynced(SyncedMessage synced, long now)
    {
        _syncsInFlight--;
        _stats.OnSync();
        var bot = _bots[synced.BotIndex];
        if (synced.Failed)
        {
            bot.OnSyncFailed(now);
        }
        else
        {
            bot.OnSynced(synced.State, now);
        }
    }

    /// <summary>Ends the current stream politely: the server sees the end of the requests, then the call is released.</summary>
    private async Task CloseAsync()
    {
        if (_call is null)
        {
            return;
        }
        var call = _call;
        _call = null;
        // Whatever the old stream still says belongs to a past generation and is ignored.
        _generation++;
        try
        {
            await call.RequestStream.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(2), _time);
        }
        catch (Exception e) when (e is RpcException or IOException or TimeoutException or InvalidOperationException)
        {
            // Best effort; disposing below cancels the call either way.
        }
        call.Dispose();
    }

    public void Dispose() => _streams.Dispose();

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string Describe(Exception e) => e switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.Message,
    };

    private abstract record LaneMessage;

    private sealed record TickMessage : LaneMessage
    {
        public static readonly TickMessage Instance = new();
    }

    private sealed record DrainMessage : LaneMessage
    {
        public static readonly DrainMessage Instance = new();
    }

    private sealed record AckMessage(int Generation, PublishAck Ack) : LaneMessage;

    private sealed record BrokenMessage(int Generation, string Reason) : LaneMessage;

    private sealed record SyncedMessage(int BotIndex, PlayerState? State, bool Failed) : LaneMessage;
}
