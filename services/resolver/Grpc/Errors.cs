using System.Diagnostics.CodeAnalysis;
using Grpc.Core;

namespace Veltrix.Resolver.Grpc;

internal static class Errors
{
    [DoesNotReturn]
    public static void InvalidArgument(string message) => throw new RpcException(new Status(StatusCode.InvalidArgument, message));

    [DoesNotReturn]
    public static void NotFound(string message) => throw new RpcException(new Status(StatusCode.NotFound, message));

    [DoesNotReturn]
    public static void FailedPrecondition(string message) => throw new RpcException(new Status(StatusCode.FailedPrecondition, message));

    [DoesNotReturn]
    public static void Unavailable(string message) => throw new RpcException(new Status(StatusCode.Unavailable, message));
}
