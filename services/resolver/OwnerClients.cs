using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Veltrix.ServiceDefaults;

namespace Veltrix.Resolver;

/// <summary>
/// Forwards a call about a world this instance does not own to the instance that does (the gateway sends
/// every public Resolver and Admin call to instance 0). One cached channel per owner address
/// (<see cref="ResolverChannels"/>); the forwarded call keeps the caller's deadline and cancellation.
/// A forwarded call is marked, and a resolver that receives a marked call for a world it does not own
/// refuses it instead of forwarding again: two resolvers with different maps must not bounce a call forever.
/// </summary>
public sealed class OwnerClients(PartitionSet partitions, ResolverChannels channels, IOptions<MeshOptions> mesh)
{
    /// <summary>Request header set on forwarded calls.</summary>
    public const string ForwardedHeader = "veltrix-forwarded-by";

    private readonly TimeSpan _callTimeout = TimeSpan.FromMilliseconds(mesh.Value.CallTimeoutMs);
    private readonly string _self = partitions.Ordinal.ToString(CultureInfo.InvariantCulture);

    /// <summary>This instance's ordinal.</summary>
    public int Self => partitions.Ordinal;

    /// <summary>The cached invoker of instance <paramref name="ordinal"/>, for any generated client: <c>new Admin.AdminClient(owners.InvokerFor(o))</c>.</summary>
    public CallInvoker InvokerFor(int ordinal) => channels.ForOrdinal(ordinal);

    /// <summary>
    /// Options for a call forwarded on behalf of <paramref name="context"/>: its deadline (the mesh call timeout when
    /// it has none), its cancellation, and the forwarded mark. Throws FAILED_PRECONDITION when the call was itself
    /// forwarded to us, which means the sender's map says we own the world and ours says we do not.
    /// </summary>
    public CallOptions ForwardOptions(ServerCallContext context, string worldId, int owner)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.RequestHeaders.Get(ForwardedHeader) is { } from)
        {
            MapsDisagree(worldId, owner, from.Value);
        }
        var deadline = context.Deadline == DateTime.MaxValue ? DateTime.UtcNow + _callTimeout : context.Deadline;
        var headers = new Metadata { { ForwardedHeader, _self } };
        return new CallOptions(headers: headers, deadline: deadline, cancellationToken: context.CancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="call"/> on the owner's invoker with <see cref="ForwardOptions"/>; an owner that cannot
    /// be reached is reported as UNAVAILABLE naming it, anything else the owner answered is passed on as it is.
    /// </summary>
    public async Task<TResponse> ForwardAsync<TRequest, TResponse>(
        ServerCallContext context,
        string worldId,
        int owner,
        TRequest request,
        Func<CallInvoker, TRequest, CallOptions, AsyncUnaryCall<TResponse>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var options = ForwardOptions(context, worldId, owner);
        try
        {
            using var pending = call(InvokerFor(owner), request, options);
            return await pending.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.DebugException is not null)
        {
            // Not reached at all (the owner's own UNAVAILABLE carries no exception): the transport's detail
            // names sockets and exceptions, while the caller needs to know who is away.
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"resolver {owner}, which owns world '{worldId}', is not reachable; retry"));
        }
    }

    [DoesNotReturn]
    private void MapsDisagree(string worldId, int owner, string from) =>
        throw new RpcException(new Status(StatusCode.FailedPrecondition,
            $"world '{worldId}' belongs to resolver {owner}, not to resolver {Self}, which resolver {from} forwarded it to: their partition maps disagree"));
}
