using System.Buffers;
using Grpc.Core;
using Grpc.Net.Client;
using HdrHistogram;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>What a subscriber needs of a BoardFrame: whether it is a heartbeat, how many entries, and the top score.</summary>
public sealed record FrameDigest(bool Heartbeat, int Entries, long? TopScore)
{
    // BoardFrame: 2 entries (BoardEntry: 3 score), 4 heartbeat; everything else is skipped.
    private const uint EntriesTag = (2 << 3) | WireReader.LengthDelimited;
    private const uint HeartbeatTag = 4 << 3;
    private const uint ScoreTag = 3 << 3;

    /// <summary>Reads a serialized BoardFrame; throws <see cref="InvalidDataException"/> on bytes that are not one.</summary>
    public static FrameDigest Read(ReadOnlySpan<byte> frame)
    {
        var reader = new WireReader(frame);
        var heartbeat = false;
        var entries = 0;
        long? top = null;
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            if (tag == EntriesTag)
            {
                var entry = reader.ReadLengthDelimited();
                if (entries++ == 0)
                {
                    top = ScoreOf(entry);
                }
            }
            else if (tag == HeartbeatTag)
            {
                heartbeat = reader.ReadVarint64() != 0;
            }
            else
            {
                reader.Skip(tag);
            }
        }
        return new FrameDigest(heartbeat, entries, top);
    }

    private static long? ScoreOf(ReadOnlySpan<byte> entry)
    {
        var reader = new WireReader(entry);
        long? score = null;
        while (!reader.AtEnd)
        {
            var tag = reader.ReadTag();
            if (tag == ScoreTag)
            {
                score = (long)reader.ReadVarint64();
            }
            else
            {
                reader.Skip(tag);
            }
        }
        return score;
    }

    internal static readonly Marshaller<FrameDigest> Marshaller = new(
        static (_, _) => throw new NotSupportedException("frames are only read"),
        static context =>
        {
            var payload = context.PayloadAsReadOnlySequence();
            if (payload.IsSingleSegment)
            {
                return Read(payload.FirstSpan);
            }
            var length = checked((int)payload.Length);
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                payload.CopyTo(copy);
                return Read(copy.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        });
}

/// <summary>What a crowd of Watch subscribers saw.</summary>
public readonly record struct CrowdCounts(long Frames, long Heartbeats, long BeaconFrames, int Receiving, int Failed, int Ended);

/// <summary>
/// Many Watch subscribers of one board, each its own server stream straight to the leaderboard, reading frames
/// as digests (only the top score is looked at, never the entries' strings) so that the crowd costs as little
/// as it can beside the service it measures. Every frame topped by <see cref="ScoreTraffic"/>'s beacon gives a
/// frame delay: how old the newest change it shows is when it arrives.
/// </summary>
public sealed class WatchCrowd : IAsyncDisposable
{
    private static readonly Method<WatchRequest, FrameDigest> Watch = new(
        MethodType.ServerStreaming, Contracts.V1.Leaderboard.Descriptor.FullName, "Watch",
        MessageMarshaller.For(WatchRequest.Parser), FrameDigest.Marshaller);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly WatchRequest _request;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _subscribers = [];
    private long _frames;
    private long _heartbeats;
    private long _beaconFrames;
    private int _receiving;
    private int _failed;
    private int _ended;
    private string? _lastError;

    public WatchCrowd(Uri leaderboard, string board, int topN, int maxHz)
    {
        ArgumentNullException.ThrowIfNull(leaderboard);
        _channel = GrpcChannel.ForAddress(leaderboard, new GrpcChannelOptions
        {
            // A connection carries at most 100 streams (Kestrel's default); the handler opens as many as needed.
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            },
        });
        _invoker = _channel.CreateCallInvoker();
        _request = new WatchRequest { Board = board, TopN = (uint)topN, MaxHz = (uint)maxHz };
    }

    /// <summary>Frame delays in µs, recorded as frames arrive.</summary>
    public Recorder Delay { get; } = new(1, LoadStats.HighestLatencyUs, 3, (id, low, high, digits) => new LongConcurrentHistogram(id, low, high, digits));

    public string? LastError => Volatile.Read(ref _lastError);

    public int Subscribers => _subscribers.Count;

    public CrowdCounts Read() => new(
        Interlocked.Read(ref _frames), Interlocked.Read(ref _heartbeats), Interlocked.Read(ref _beaconFrames),
        Volatile.Read(ref _receiving), Volatile.Read(ref _failed), Volatile.Read(ref _ended));

    /// <summary>Opens <paramref name="count"/> more subscriptions, <paramref name="perStep"/> at a time with a pause between steps.</summary>
    public async Task AddAsync(int count, int perStep, TimeSpan pause, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perStep, 1);
        for (var opened = 0; opened < count; opened += perStep)
        {
            for (var i = opened; i < Math.Min(count, opened + perStep); i++)
            {
                _subscribers.Add(Task.Run(() => SubscribeAsync(_stop.Token), CancellationToken.None));
            }
            await Task.Delay(pause, cancellationToken);
        }
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        var first = true;
        try
        {
            using var call = _invoker.AsyncServerStreamingCall(Watch, null, new CallOptions(cancellationToken: cancellationToken), _request);
            var frames = call.ResponseStream;
            while (await frames.MoveNext(cancellationToken))
            {
                var frame = frames.Current;
                Interlocked.Increment(ref _frames);
                if (first)
                {
                    first = false;
                    Interlocked.Increment(ref _receiving);
                }
                if (frame.Heartbeat)
                {
                    Interlocked.Increment(ref _heartbeats);
                }
                else if (frame.TopScore is { } top && ScoreTraffic.BeaconAge(top, ScoreTraffic.Clock()) is { } age)
                {
                    Interlocked.Increment(ref _beaconFrames);
                    Delay.RecordValue(Math.Clamp(age, 1, LoadStats.HighestLatencyUs));
                }
            }
            Interlocked.Increment(ref _ended);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The crowd is being dismissed.
        }
        catch (Exception e)
        {
            Volatile.Write(ref _lastError, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.GetType().Name + ": " + e.Message);
            Interlocked.Increment(ref _failed);
        }
        finally
        {
            if (!first)
            {
                Interlocked.Decrement(ref _receiving);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_subscribers).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _channel.Dispose();
        _stop.Dispose();
    }
}
