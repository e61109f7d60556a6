using System.Diagnostics.CodeAnalysis;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Veltrix.Contracts.Wire;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard;

/// <summary>
/// The public Leaderboard contract: validates, then hands over to the queries and the watcher. Bound by
/// <see cref="LeaderboardMethods"/>: Watch writes frames as bytes.
/// </summary>
internal sealed class LeaderboardService(BoardQueries queries, BoardWatcher watcher)
{
    private const int DefaultLimit = 10;
    private const int MaxLimit = 1000;
    private const int MaxAround = 100;
    private const int DefaultTopN = 10;
    private const int MaxTopN = Board.WatchDepth;
    private const int MaxHz = 10;

    public Task<BoardPage> Top(TopRequest request, ServerCallContext context)
    {
        RequireBoard(request.Board);
        var limit = OrDefault(request.Limit, DefaultLimit, MaxLimit, "limit must be 1..1000 (0 means 10)");
        if (!PageToken.TryDecode(request.PageToken, out var offset))
        {
            InvalidArgument("page_token is not one this service issued");
        }
        return Task.FromResult(queries.Top(request.Board, offset, limit));
    }

    public Task<BoardPage> Around(AroundRequest request, ServerCallContext context)
    {
        RequireBoard(request.Board);
        if (!BoardNames.IsValidId(request.PlayerId))
        {
            InvalidArgument("player_id must be 1..64 chars of [A-Za-z0-9_-]");
        }
        if (request.Before > MaxAround || request.After > MaxAround)
        {
            InvalidArgument("before and after must be at most 100");
        }
        var page = queries.Around(request.Board, request.PlayerId, (int)request.Before, (int)request.After);
        if (page is null)
        {
            NotFound("the player is not on this board");
        }
        return Task.FromResult(page);
    }

    public Task Watch(WatchRequest request, IServerStreamWriter<FrameBytes> responseStream, ServerCallContext context)
    {
        RequireBoard(request.Board);
        var topN = OrDefault(request.TopN, DefaultTopN, MaxTopN, "top_n must be 1..100 (0 means 10)");
        var maxHz = OrDefault(request.MaxHz, MaxHz, MaxHz, "max_hz must be 1..10 (0 means 10)");
        return watcher.RunAsync(request.Board, topN, maxHz, responseStream, context.CancellationToken);
    }

    private static void RequireBoard(string board)
    {
        if (!BoardNames.IsValidBoard(board))
        {
            InvalidArgument("board must be 'global' or 'world:{id}', optionally followed by '@{season}'");
        }
    }

    private static int OrDefault(uint value, int fallback, int max, string error)
    {
        if (value > max)
        {
            InvalidArgument(error);
        }
        return value == 0 ? fallback : (int)value;
    }

    [DoesNotReturn]
    private static void InvalidArgument(string detail) => throw new RpcException(new Status(StatusCode.InvalidArgument, detail));

    [DoesNotReturn]
    private static void NotFound(string detail) => throw new RpcException(new Status(StatusCode.NotFound, detail));
}

/// <summary>The Leaderboard service's methods, as the generated base would bind them but for Watch's frames as bytes.</summary>
internal sealed class LeaderboardMethods : IServiceMethodProvider<LeaderboardService>
{
    private static readonly string Service = Contracts.V1.Leaderboard.Descriptor.FullName;

    private static readonly Method<TopRequest, BoardPage> Top = new(
        MethodType.Unary, Service, "Top", MessageMarshaller.For(TopRequest.Parser), MessageMarshaller.For(BoardPage.Parser));

    private static readonly Method<AroundRequest, BoardPage> Around = new(
        MethodType.Unary, Service, "Around", MessageMarshaller.For(AroundRequest.Parser), MessageMarshaller.For(BoardPage.Parser));

    private static readonly Method<WatchRequest, FrameBytes> Watch = new(
        MethodType.ServerStreaming, Service, "Watch", MessageMarshaller.For(WatchRequest.Parser), FrameBytes.Marshaller);

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<LeaderboardService> context)
    {
        context.AddUnaryMethod(Top, [], static (service, request, call) => service.Top(request, call));
        context.AddUnaryMethod(Around, [], static (service, request, call) => service.Around(request, call));
        context.AddServerStreamingMethod(Watch, [], static (service, request, stream, call) => service.Watch(request, stream, call));
    }
}
