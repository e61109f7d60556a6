using Veltrix.Contracts;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Veltrix.Storage;
using ScoreChangeMessage = Veltrix.Contracts.Internal.ScoreChange;

namespace Veltrix.Resolver;

/// <summary>A unit of work for a partition loop. <see cref="Run"/> happens on the loop; the caller
/// hears the result at <see cref="Complete"/>, after the turn it ran in is durable.</summary>
public abstract class PartitionWork
{
    public abstract void Run(PartitionState state);

    /// <summary>Only <see cref="LoopWork{T}"/> overrides it; the loop gives such work a turn of its own.</summary>
    internal virtual ValueTask RunOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    internal virtual bool TakesOwnTurn => false;

    public abstract void Complete();

    public abstract void Fail(Exception exception);
}

/// <summary>A work item whose caller awaits one result.</summary>
/// <remarks>Callers go through <see cref="Partition.RunAsync{T}"/>, which turns a partition's refusal into UNAVAILABLE.</remarks>
public abstract class PartitionWork<T> : PartitionWork
{
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Task => _done.Task;

    public sealed override void Run(PartitionState state) => _result = Execute(state);

    protected abstract T Execute(PartitionState state);

    public sealed override void Complete() => _done.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _done.TrySetException(exception);
}

/// <summary>
/// Work that awaits on the loop (reads the log) and takes a turn of its own. <see cref="PartitionWork.Run"/>
/// is not used; the loop calls <see cref="RunOnLoopAsync"/>, which changes the state only at its end.
/// </summary>
public abstract class LoopWork<T> : PartitionWork<T>
{
    private T? _outcome;

    protected sealed override T Execute(PartitionState state) => _outcome!;

    public abstract ValueTask<T> ExecuteOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken);

    internal sealed override bool TakesOwnTurn => true;

    internal sealed override async ValueTask RunOnLoopAsync(PartitionState state, IPartitionLog log, CancellationToken cancellationToken)
    {
        _outcome = await ExecuteOnLoopAsync(state, log, cancellationToken).ConfigureAwait(false);
        Run(state);
    }
}

/// <summary>Applies a batch: spawns first, then events in order.</summary>
public sealed class ApplyWork(ApplyBatch batch) : PartitionWork<ApplyReply>
{
    protected override ApplyReply Execute(PartitionState state)
    {
        var reply = new ApplyReply();
        ApplyInputs(state, batch, reply);
        state.RecordInput(batch);
        return reply;
    }

    /// <summary>The batch's effect on the state, answered in <paramref name="reply"/>.</summary>
    public static void ApplyInputs(PartitionState state, ApplyBatch batch, ApplyReply reply)
    {
        var results = new ApplyReplyBuilder(batch.Events.Count);
        reply.SpawnsApplied += (uint)ApplyInputs(state, batch, results);
        results.CopyTo(reply);
    }

    /// <summary>The batch's effect on the state; recovery replays logged batches through this too (no results).</summary>
    /// <returns>How many spawns were new to their world.</returns>
    public static int ApplyInputs(PartitionState state, ApplyBatch batch, ApplyReplyBuilder? results)
    {
        var spawned = 0;
        foreach (var spawn in batch.Spawns)
        {
            state.MaxStampMs = Math.Max(state.MaxStampMs, spawn.StampMs);
            if (state.GetOrAddWorld(spawn.WorldId)?.Spawn(spawn.TreasureId, spawn.X, spawn.Y, spawn.Value) == true)
            {
                state.Spawns++;
                spawned++;
            }
        }
        var events = batch.Events;
        var stamps = batch.StampsMs;
        for (var i = 0; i < events.Count; i++)
        {
            var stamp = stamps[i];
            state.MaxStampMs = Math.Max(state.MaxStampMs, stamp);
            var verdict = ApplyOne(state, events[i], stamp);
            results?.Add(verdict.ToResult());
        }
        return spawned;
    }

    private static Verdict ApplyOne(PartitionState state, Event wire, long stampMs)
    {
        var e = wire.ToGameEvent();
        // Ingest validated already; checking again costs little and keeps a bad caller from reaching the rules.
        var verdict = EventValidator.Validate(in e);
        if (!verdict.IsAccepted)
        {
            state.Malformed++;
            return verdict;
        }
        var world = state.GetOrAddWorld(e.WorldId);
        if (world is null)
        {
            state.Rejected++;
            return Verdict.Rejected(Reasons.TooManyWorlds);
        }
        verdict = world.Apply(in e, stampMs, state.Flags, out var change);
        switch (verdict.Outcome)
        {
            case Domain.Outcome.Accepted:
                state.Accepted++;
                break;
            case Domain.Outcome.Duplicate:
                state.Duplicates++;
                break;
            default:
                state.Rejected++;
                break;
        }
        if (change.HasValue)
        {
            state.RecordScore(e.WorldId, in change);
        }
        return verdict;
    }
}

public sealed class GetPlayerWork(string worldId, string playerId) : PartitionWork<PlayerState?>
{
    protected override PlayerState? Execute(PartitionState state)
    {
        var world = state.FindWorld(worldId);
        var player = world?.FindPlayer(playerId);
        return player is null ? null : StateMapping.ToPlayerState(world!, player);
    }
}

public sealed class GetWorldWork(string worldId) : PartitionWork<WorldState?>
{
    protected override WorldState? Execute(PartitionState state)
    {
        var world = state.FindWorld(worldId);
        if (world is null)
        {
            return null;
        }
        var reply = new WorldState
        {
            WorldId = world.Id,
            PlayersTotal = (uint)world.PlayerCount,
            TreasuresClaimed = (uint)world.ClaimedTreasureCount,
        };
        var limit = state.Options.MaxListed;
        foreach (var player in world.Players)
        {
            if (reply.PlayersOnline.Count >= limit)
            {
                break;
            }
            if (player.Online)
            {
                reply.PlayersOnline.Add(StateMapping.ToPlayerState(world, player));
            }
        }
        foreach (var treasure in world.OpenTreasures)
        {
            if (reply.OpenTreasures.Count >= limit)
            {
                break;
            }
            reply.OpenTreasures.Add(new Veltrix.Contracts.V1.Treasure { Id = treasure.Id, X = treasure.X, Y = treasure.Y, Value = treasure.Value });
        }
        return reply;
    }
}

/// <summary>Sends a subscriber this partition's scores as they stand, then registers it for changes.
/// Running on the loop makes the snapshot and the live changes after it one gapless sequence.</summary>
public sealed class SubscribeWork(ScoreFeedSubscriber subscriber) : PartitionWork
{
    public override void Run(PartitionState state)
    {
        var snapshot = new ScoreChanges { Snapshot = true };
        foreach (var world in state.Worlds)
        {
            foreach (var player in world.Players)
            {
                if (!player.Joined)
                {
                    continue;
                }
                snapshot.Changes.Add(new ScoreChangeMessage
                {
                    WorldId = world.Id,
                    PlayerId = player.Id,
                    Score = player.Score,
                    ReachedAtMs = player.ScoreReachedAtMs,
                });
            }
        }
        subscriber.Offer(snapshot);
        state.AddSubscriber(subscriber);
        subscriber.PartitionSnapshotSent();
    }

    public override void Complete()
    {
    }

    public override void Fail(Exception exception) => subscriber.Close(exception);
}

internal static class StateMapping
{
    public static PlayerState ToPlayerState(World world, Player player) => new()
    {
        PlayerId = player.Id,
        WorldId = world.Id,
        X = player.X,
        Y = player.Y,
        Score = player.Score,
        LastSeq = player.LastSeq,
        Online = player.Online,
        TeleportReadyAtMs = player.TeleportReadyAtMs(world.Rules),
    };
}
