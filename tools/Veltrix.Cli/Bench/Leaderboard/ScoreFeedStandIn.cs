using System.Diagnostics;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veltrix.Contracts.Wire;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>
/// Stands in for a resolver's ScoreFeed on the resolver's port, so a leaderboard can be measured alone: each
/// subscription gets a snapshot of every player, then live changes from <see cref="ScoreTraffic"/>, flat out
/// (HTTP/2 flow control holds the feed to what the leaderboard takes) or at <see cref="Rate"/> changes/s. One
/// subscription is served at a time; a resubscribing leaderboard waits for the old one to end.
/// </summary>
public sealed class ScoreFeedStandIn : IAsyncDisposable
{
    private readonly LoopbackGrpcHost _host;
    private readonly FeedState _state;

    private ScoreFeedStandIn(LoopbackGrpcHost host, FeedState state)
    {
        _host = host;
        _state = state;
    }

    public ScoreTraffic Traffic => _state.Traffic;

    /// <summary>Live changes per second; 0 is flat out.</summary>
    public long Rate
    {
        get => _state.Rate;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _state.Rate = value;
        }
    }

    public static async Task<ScoreFeedStandIn> StartAsync(int port, ScoreTraffic traffic, int changesPerMessage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(traffic);
        ArgumentOutOfRangeException.ThrowIfLessThan(changesPerMessage, 1);
        var state = new FeedState(traffic, changesPerMessage);
        try
        {
            var host = await LoopbackGrpcHost.StartAsync<FeedService>(port, services =>
            {
                services.AddSingleton(state);
                services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<FeedService>, FeedMethods>());
            }, cancellationToken);
            return new ScoreFeedStandIn(host, state);
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A live subscription runs until stopped: end it first, so the host's stop does not wait it out.
        await _state.Stopping.CancelAsync();
        await _host.DisposeAsync();
        _state.Dispose();
    }

    internal sealed class FeedState(ScoreTraffic traffic, int changesPerMessage) : IDisposable
    {
        private long _rate;

        public ScoreTraffic Traffic { get; } = traffic;
        public int ChangesPerMessage { get; } = changesPerMessage;
        public SemaphoreSlim OneAtATime { get; } = new(1, 1);
        public CancellationTokenSource Stopping { get; } = new();

        public long Rate
        {
            get => Volatile.Read(ref _rate);
            set => Volatile.Write(ref _rate, value);
        }


        public void Dispose()
        {
            OneAtATime.Dispose();
            Stopping.Dispose();
        }
    }

    internal sealed class FeedService(FeedState state)
    {
        public async Task Subscribe(IServerStreamWriter<SerializedBatch> stream, ServerCallContext context)
        {
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, state.Stopping.Token);
            var token = ended.Token;
            await state.OneAtATime.WaitAsync(token);
            try
            {
                var traffic = state.Traffic;
                var batch = state.ChangesPerMessage;
                // One buffer per subscription: a write has copied the bytes out by the time it completes.
                var buffer = new byte[ScoreTraffic.BufferSize(batch)];
                var next = 0;
                do
                {
                    (var length, next) = traffic.WriteSnapshotChunk(buffer, next, batch);
                    await stream.WriteAsync(SerializedBatch.Borrow(buffer, length), token);
                }
                while (next < traffic.Players);

                var rate = -1L;
                long paceStart = 0, paced = 0;
                while (!token.IsCancellationRequested)
                {
                    var current = state.Rate;
                    if (current != rate)
                    {
                        rate = current;
                        paceStart = Stopwatch.GetTimestamp();
                        paced = 0;
                    }
                    if (rate > 0)
                    {
                        // Paced: the next message is due when the changes sent so far match the rate.
                        var dueAt = paceStart + (long)((double)paced / rate * Stopwatch.Frequency);
                        var ahead = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), dueAt);
                        if (ahead > TimeSpan.FromMilliseconds(1))
                        {
                            await Task.Delay(ahead, token);
                        }
                        paced += batch;
                    }
                    var written = traffic.WriteChanges(buffer, batch);
                    await stream.WriteAsync(SerializedBatch.Borrow(buffer, written), token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // The leaderboard went away or the benchmark is over.
            }
            finally
            {
                state.OneAtATime.Release();
            }
        }
    }

    internal sealed class FeedMethods : IServiceMethodProvider<FeedService>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FeedService> context) =>
            context.AddServerStreamingMethod(ScoreFeedWire.Subscribe, [], static (service, _, stream, call) => service.Subscribe(stream, call));
    }
}
