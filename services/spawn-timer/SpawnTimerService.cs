using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Grpc.Core;
using Veltrix.Contracts.V1;
using Veltrix.SpawnTimer.Scheduling;
using SpawnTimerContract = Veltrix.Contracts.V1.SpawnTimer;

namespace Veltrix.SpawnTimer;

/// <summary>The public SpawnTimer contract: validate, then hand over to the scheduler.</summary>
internal sealed class SpawnTimerService(SpawnScheduler scheduler, TimeProvider time) : SpawnTimerContract.SpawnTimerBase
{
    private const int DefaultListLimit = 100;
    private const int MaxListLimit = 1000;

    public override Task<ScheduleOnceReply> ScheduleOnce(ScheduleOnceRequest request, ServerCallContext context)
    {
        if (!SpawnRules.IsValidId(request.WorldId))
        {
            InvalidArgument("world_id must be 1..64 characters of [A-Za-z0-9_-]");
        }
        if (request.TreasureId.Length != 0 && !SpawnRules.IsValidId(request.TreasureId))
        {
            InvalidArgument("treasure_id must be empty or 1..64 characters of [A-Za-z0-9_-]");
        }
        if (!SpawnRules.IsInWorld(request.X))
        {
            InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"x must be in [0, {SpawnRules.WorldSize}), got {request.X}"));
        }
        if (!SpawnRules.IsInWorld(request.Y))
        {
            InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"y must be in [0, {SpawnRules.WorldSize}), got {request.Y}"));
        }
        if (!SpawnRules.IsValidValue(request.Value))
        {
            InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"value must be in [{SpawnRules.MinValue}, {SpawnRules.MaxValue}], got {request.Value}"));
        }
        var latest = time.GetUtcNow().ToUnixTimeMilliseconds() + SpawnRules.MaxAheadMs;
        if (request.AtMs > latest)
        {
            InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"at_ms must be at most 30 days ahead (at most {latest}), got {request.AtMs}"));
        }

        var outcome = scheduler.Schedule(new SpawnRequest(request.WorldId, request.TreasureId, request.X, request.Y, request.Value, request.AtMs));
        switch (outcome.Status)
        {
            case ScheduleStatus.Full:
                ResourceExhausted(string.Create(CultureInfo.InvariantCulture, $"{scheduler.MaxPending} spawns are pending, the most this timer holds; try again later"));
                break;
            case ScheduleStatus.Conflict:
                AlreadyExists(string.Create(CultureInfo.InvariantCulture, $"treasure_id {outcome.TreasureId} is already pending in world {request.WorldId} with another position or value"));
                break;
        }
        return Task.FromResult(new ScheduleOnceReply { TreasureId = outcome.TreasureId, AtMs = outcome.DueMs });
    }

    public override Task<ListPendingReply> ListPending(ListPendingRequest request, ServerCallContext context)
    {
        if (request.WorldId.Length != 0 && !SpawnRules.IsValidId(request.WorldId))
        {
            InvalidArgument("world_id must be empty or 1..64 characters of [A-Za-z0-9_-]");
        }
        if (request.Limit > MaxListLimit)
        {
            InvalidArgument(string.Create(CultureInfo.InvariantCulture, $"limit must be in [1, {MaxListLimit}] (0 means {DefaultListLimit}), got {request.Limit}"));
        }
        var limit = request.Limit == 0 ? DefaultListLimit : (int)request.Limit;

        var page = scheduler.ListPending(request.WorldId.Length == 0 ? null : request.WorldId, limit);
        var reply = new ListPendingReply { Total = (uint)page.Total };
        foreach (var spawn in page.Spawns)
        {
            reply.Spawns.Add(new PendingSpawn
            {
                WorldId = spawn.WorldId,
                TreasureId = spawn.TreasureId,
                X = spawn.X,
                Y = spawn.Y,
                Value = spawn.Value,
                AtMs = spawn.DueMs,
            });
        }
        return Task.FromResult(reply);
    }

    [DoesNotReturn]
    private static void InvalidArgument(string message) => throw new RpcException(new Status(StatusCode.InvalidArgument, message));

    [DoesNotReturn]
    private static void ResourceExhausted(string message) => throw new RpcException(new Status(StatusCode.ResourceExhausted, message));

    [DoesNotReturn]
    private static void AlreadyExists(string message) => throw new RpcException(new Status(StatusCode.AlreadyExists, message));
}
