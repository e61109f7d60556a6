using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Bots;

/// <summary>The open treasures of each bot world, refreshed through the gateway about once a second.</summary>
internal sealed class WorldView(GatewayClients gateway, IReadOnlyList<string> worlds, TimeSpan callTimeout, TimeProvider time)
{
    private readonly Treasure[][] _open = [.. worlds.Select(_ => Array.Empty<Treasure>())];

    public IReadOnlyList<Treasure> Open(int world) => Volatile.Read(ref _open[world]);

    public async Task RunAsync(TimeSpan every, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(every, time);
        try
        {
            do
            {
                for (var i = 0; i < worlds.Count; i++)
                {
                    try
                    {
                        var state = await gateway.Resolver.GetWorldAsync(
                            new GetWorldRequest { WorldId = worlds[i] }, gateway.Call(callTimeout, cancellationToken));
                        Volatile.Write(ref _open[i], [.. state.OpenTreasures]);
                    }
                    catch (RpcException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Keep the last view; the bots' digs tell them what is gone meanwhile.
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
