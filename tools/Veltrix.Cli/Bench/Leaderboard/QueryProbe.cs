using Grpc.Core;
using Grpc.Net.Client;
using HdrHistogram;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bench.Leaderboard;

/// <summary>
/// Reads a leaderboard while it is being written: one loop of Top (first 100 of the global board) and one of
/// Around (10 either side of a random player), each call after the last plus a millisecond's pause, so the
/// probe measures the queries' latency without taking the cores from the service it measures.
/// </summary>
public sealed class QueryProbe : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(1);

    private readonly GrpcChannel _channel;
    private readonly Contracts.V1.Leaderboard.LeaderboardClient _client;
    private readonly int _players;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private long _errors;
    private string? _lastError;

    public QueryProbe(Uri leaderboard, int players)
    {
        _channel = GrpcChannel.ForAddress(leaderboard);
        _client = new Contracts.V1.Leaderboard.LeaderboardClient(_channel);
        _players = players;
        _loops =
        [
            Task.Run(() => LoopAsync(Top, TopUs, _stop.Token)),
            Task.Run(() => LoopAsync(Around, AroundUs, _stop.Token)),
        ];
    }

    /// <summary>Latency of Top calls, µs.</summary>
    public Recorder TopUs { get; } = NewRecorder();

    /// <summary>Latency of Around calls, µs.</summary>
    public Recorder AroundUs { get; } = NewRecorder();

    public long Errors => Interlocked.Read(ref _errors);

    public string? LastError => Volatile.Read(ref _lastError);

    private static Recorder NewRecorder() =>
        new(1, LoadStats.HighestLatencyUs, 3, (id, low, high, digits) => new LongHistogram(id, low, high, digits));

    private async Task Top(CancellationToken cancellationToken) =>
        await _client.TopAsync(new TopRequest { Board = "global", Limit = 100 }, deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);

    private async Task Around(CancellationToken cancellationToken) =>
        await _client.AroundAsync(
            new AroundRequest { Board = "global", PlayerId = ScoreTraffic.PlayerId(Random.Shared.Next(_players)), Before = 10, After = 10 },
            deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);

    private async Task LoopAsync(Func<CancellationToken, Task> query, Recorder latency, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = ScoreTraffic.Clock();
            try
            {
                await query(cancellationToken);
                latency.RecordValue(Math.Clamp(ScoreTraffic.Clock() - started, 1, LoadStats.HighestLatencyUs));
                await Task.Delay(Pause, cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref _errors);
                Volatile.Write(ref _lastError, $"{e.StatusCode}: {e.Status.Detail}");
                await Task.Delay(Pause * 100, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _channel.Dispose();
        _stop.Dispose();
    }
}
