using Google.Protobuf;
using Veltrix.Contracts;
using Veltrix.Contracts.Internal;
using Veltrix.Contracts.V1;
using Veltrix.Contracts.Wire;
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

    public sealed override void Complete()
    {
        _done.TrySetResult(_result!);
        Release();
    }

    public sealed override void Fail(Exception exception)
    {
        _done.TrySetException(exception);
        Release();
    }

    /// <summary>Returns what the work borrowed, once it is answered: the loop is done with it.</summary>
    protected virtual void Release()
    {
    }
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

/// <summary>
/// Applies a batch, read in place from the bytes it arrived in: spawns first, then events in order. The
/// same bytes go into the turn's log entry; the buffer goes back to its pool once the caller is answered.
/// </summary>
public sealed class ApplyWork(SerializedBatch batch) : PartitionWork<ApplyReply>
{
    /// <summary>A batch held as a message; for tests and tools (the event path hands over bytes).</summary>
    public ApplyWork(ApplyBatch batch)
        : this(SerializedBatch.Of(batch))
    {
    }

    protected override ApplyReply Execute(PartitionState state)
    {
        var reply = new ApplyReply();
        ApplyInputs(state, batch.Span, reply);
        state.RecordInput(batch.Memory, state.Layout.Count + state.Layout.Spawns.Count);
        return reply;
    }

    protected override void Release() => batch.Dispose();

    /// <summary>A batch held as a message; for tests and tools.</summary>
    public static void ApplyInputs(PartitionState state, ApplyBatch batch, ApplyReply? results)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ApplyInputs(state, batch.ToByteArray(), results);
    }

    /// <summary>
    /// The effect of a serialized batch on the state, answered in <paramref name="reply"/>; recovery replays
    /// logged batches through here too (no reply). Leaves the batch's layout in <see cref="PartitionState.Layout"/>.
    /// </summary>
    public static void ApplyInputs(PartitionState state, ReadOnlySpan<byte> batch, ApplyReply? reply)
    {
        var layout = state.Layout;
        layout.Read(batch);
        foreach (var spawn in layout.Spawns)
        {
            state.MaxStampMs = Math.Max(state.MaxStampMs, spawn.StampMs);
            if (state.GetOrAddWorld(spawn.WorldId)?.Spawn(spawn.TreasureId, spawn.X, spawn.Y, spawn.Value) == true)
            {
                state.Spawns++;
                if (reply is not null)
                {
                    reply.SpawnsApplied++;
                }
            }
        }
        var results = reply is null ? null : new ApplyReplyBuilder(layout.Count);
        for (var i = 0; i < layout.Count; i++)
        {
            var stamp = layout.StampAt(i);
            state.MaxStampMs = Math.Max(state.MaxStampMs, stamp);
            var verdict = ApplyOne(state, layout.EventAt(batch, i), stamp);
            results?.Add(verdict.ToResult());
        }
        results?.CopyTo(reply!);
    }

    private static Verdict ApplyOne(PartitionState state, ReadOnlySpan<byte> message, long stampMs)
    {
        var wire = WireEvent.Read(message);
        var verdict = wire.Validate();
        if (!verdict.IsAccepted)
        {
            // Ingest validated already; checking again costs little and keeps a bad caller from reaching the rules.
            state.Malformed++;
            return verdict;
        }
        Span<char> chars = stackalloc char[EventValidator.MaxIdLength];
        var world = state.GetOrAddWorld(WireIds.ToChars(wire.WorldId, chars));
        if (world is null)
        {
            state.Rejected++;
            return Verdict.Rejected(Reasons.TooManyWorlds);
        }
        var e = wire.ToGameEvent(world.InternPlayerId(WireIds.ToChars(wire.PlayerId, chars)), world.Id);
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
            state.RecordScore(world.Id, in change);
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
