using System.Globalization;
using System.Security.Cryptography;
using Grpc.Core;
using Veltrix.Cli.Bots;
using Veltrix.Contracts.V1;

namespace Veltrix.Cli.Game;

/// <summary>What the scripted game saw: success, or the first step that failed and why.</summary>
public sealed record ScriptedGameResult(bool Succeeded, string WorldId, string? Failure, IReadOnlyList<string> Steps);

/// <summary>
/// A short, fully checked game through the gateway: two players join a fresh world, move, a treasure is
/// scheduled where Alice stands, she digs it, and the resolver, the leaderboard and ingest's validation
/// must each show exactly what the rules say. Every call has a deadline; every wait is bounded.
/// </summary>
public sealed class ScriptedGame
{
    public const string Alice = "p-alice";
    public const string Bob = "p-bob";
    public const int TreasureValue = 50;
    private const int StepCount = 10;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly GatewayClients _gateway;
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly List<string> _steps = [];
    private ulong _batchId;
    private long _lastClientMs;
    private int _step;

    public ScriptedGame(GatewayClients gateway, TextWriter output, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(output);
        _gateway = gateway;
        _output = output;
        _time = time ?? TimeProvider.System;
        WorldId = "smoke-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    public string WorldId { get; }

    /// <summary>Deadline of each call, and of each ack.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a due spawn may take to show in its world.</summary>
    public TimeSpan SpawnWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the world's board may take to show the dig.</summary>
    public TimeSpan BoardWait { get; init; } = TimeSpan.FromSeconds(3);

    public async Task<ScriptedGameResult> RunAsync(CancellationToken cancellationToken)
    {
        _output.WriteLine($"scripted game in world {WorldId} through {_gateway.Address}");
        var script = TimeSpan.FromSeconds(60);
        try
        {
            using var call = _gateway.Ingest.Publish(_gateway.Call(script, cancellationToken));
            ulong aliceSeq = 0;
            ulong bobSeq = 0;

            await StepAsync("alice and bob join", async () =>
            {
                var ack = await PublishAsync(call, [Make(Alice, ++aliceSeq, e => e.Join = new Join()), Make(Bob, ++bobSeq, e => e.Join = new Join())], cancellationToken);
                return ExpectOutcomes(ack, Outcome.Accepted, Outcome.Accepted);
            });

            Spot alice = default;
            Spot bob = default;
            await StepAsync("read where the world placed them (Resolver.GetPlayer)", async () =>
            {
                var a = await GetPlayerAsync(Alice, cancellationToken);
                var b = await GetPlayerAsync(Bob, cancellationToken);
                Check(a.Online && b.Online, $"expected both online, got alice online={a.Online}, bob online={b.Online}");
                alice = new Spot(a.X, a.Y);
                bob = new Spot(b.X, b.Y);
                return $"alice at ({alice.X}, {alice.Y}), bob at ({bob.X}, {bob.Y})";
            });

            await StepAsync("each moves a little", async () =>
            {
                var aliceTo = SmallStep(alice);
                var bobTo = SmallStep(bob);
                var ack = await PublishAsync(call,
                    [Make(Alice, ++aliceSeq, e => e.Move = new Move { X = aliceTo.X, Y = aliceTo.Y }),
                     Make(Bob, ++bobSeq, e => e.Move = new Move { X = bobTo.X, Y = bobTo.Y })],
                    cancellationToken);
                var outcome = ExpectOutcomes(ack, Outcome.Accepted, Outcome.Accepted);
                alice = aliceTo;
                bob = bobTo;
                return outcome;
            });

            await StepAsync("alice's position (Resolver.GetPlayer)", async () =>
            {
                var a = await GetPlayerAsync(Alice, cancellationToken);
                Check(a.X == alice.X && a.Y == alice.Y, $"expected alice at ({alice.X}, {alice.Y}), got ({a.X}, {a.Y})");
                Check(a.LastSeq == aliceSeq, $"expected alice's last_seq {aliceSeq}, got {a.LastSeq}");
                return $"({a.X}, {a.Y}), last_seq {a.LastSeq}";
            });

            var treasureId = "";
            await StepAsync("schedule a treasure where alice stands (SpawnTimer.ScheduleOnce)", async () =>
            {
                var reply = await _gateway.SpawnTimer.ScheduleOnceAsync(
                    new ScheduleOnceRequest
                    {
                        WorldId = WorldId,
                        X = alice.X,
                        Y = alice.Y,
                        Value = TreasureValue,
                        AtMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                    },
                    _gateway.Call(CallTimeout, cancellationToken));
                Check(!string.IsNullOrEmpty(reply.TreasureId), "ScheduleOnce answered without a treasure id");
                treasureId = reply.TreasureId;
                return $"treasure {treasureId}, value {TreasureValue}";
            });

            await StepAsync("wait until Resolver.GetWorld lists it", async () =>
            {
                var world = await PollAsync(SpawnWait,
                    async () => await _gateway.Resolver.GetWorldAsync(new GetWorldRequest { WorldId = WorldId }, _gateway.Call(CallTimeout, cancellationToken)),
                    w => w.OpenTreasures.Any(t => t.Id == treasureId),
                    cancellationToken);
                Check(world is not null, $"treasure {treasureId} not in the world's open treasures within {SpawnWait.TotalSeconds:0} s");
                var t = world!.OpenTreasures.First(t => t.Id == treasureId);
                Check(t.X == alice.X && t.Y == alice.Y && t.Value == TreasureValue,
                    $"expected treasure at ({alice.X}, {alice.Y}) worth {TreasureValue}, got ({t.X}, {t.Y}) worth {t.Value}");
                return $"open at ({t.X}, {t.Y})";
            });

            await StepAsync("alice digs", async () =>
            {
                var ack = await PublishAsync(call, [Make(Alice, ++aliceSeq, e => e.Dig = new Dig())], cancellationToken);
                return ExpectOutcomes(ack, Outcome.Accepted);
            });

            await StepAsync("alice's score (Resolver.GetPlayer)", async () =>
            {
                var a = await GetPlayerAsync(Alice, cancellationToken);
                Check(a.Score == TreasureValue, $"expected score {TreasureValue}, got {a.Score}");
                Check(a.Online, "expected alice online");
                return $"score {a.Score}, online";
            });

            var board = "world:" + WorldId;
            await StepAsync($"board {board} ranks alice then bob (Leaderboard.Top)", async () =>
            {
                BoardPage? last = null;
                var page = await PollAsync(BoardWait,
                    async () => last = await _gateway.Leaderboard.TopAsync(new TopRequest { Board = board, Limit = 10 }, _gateway.Call(CallTimeout, cancellationToken)),
                    p => p.Entries.Count >= 2
                        && p.Entries[0].PlayerId == Alice && p.Entries[0].Score == TreasureValue && p.Entries[0].Rank == 1
                        && p.Entries[1].PlayerId == Bob && p.Entries[1].Score == 0 && p.Entries[1].Rank == 2,
                    cancellationToken);
                Check(page is not null,
                    $"expected 1. {Alice} {TreasureValue}, 2. {Bob} 0 within {BoardWait.TotalSeconds:0} s; last seen: {Describe(last)}");
                return Describe(page);
            });

            await StepAsync("a malformed event in a batch of valid ones", async () =>
            {
                var bobTo = SmallStep(bob);
                var aliceTo = SmallStep(alice);
                var malformed = new Event { PlayerId = "", WorldId = WorldId, Seq = 1, ClientTimeMs = ClientNow(), Join = new Join() };
                var ack = await PublishAsync(call,
                    [Make(Bob, ++bobSeq, e => e.Move = new Move { X = bobTo.X, Y = bobTo.Y }),
                     malformed,
                     Make(Alice, ++aliceSeq, e => e.Move = new Move { X = aliceTo.X, Y = aliceTo.Y })],
                    cancellationToken);
                return ExpectOutcomes(ack, Outcome.Accepted, Outcome.Malformed, Outcome.Accepted);
            });

            await call.RequestStream.CompleteAsync();
            _output.WriteLine("scripted game passed");
            return new ScriptedGameResult(true, WorldId, null, _steps);
        }
        catch (ScriptFailure failure)
        {
            _output.WriteLine("scripted game FAILED: " + failure.Message);
            return new ScriptedGameResult(false, WorldId, failure.Message, _steps);
        }
        catch (RpcException e)
        {
            var message = $"closing the Publish stream: {e.StatusCode} {e.Status.Detail}";
            _output.WriteLine("scripted game FAILED: " + message);
            return new ScriptedGameResult(false, WorldId, message, _steps);
        }
    }

    private async Task StepAsync(string title, Func<Task<string>> body)
    {
        _step++;
        var started = _time.GetTimestamp();
        var prefix = string.Create(CultureInfo.InvariantCulture, $"[{_step}/{StepCount}] {title}");
        string detail;
        try
        {
            detail = await body();
        }
        catch (ScriptFailure failure)
        {
            _steps.Add(prefix + ": FAILED: " + failure.Message);
            _output.WriteLine(prefix + " ... FAILED");
            throw new ScriptFailure($"{title}: {failure.Message}");
        }
        catch (RpcException e)
        {
            _steps.Add(prefix + ": FAILED: " + e.StatusCode);
            _output.WriteLine(prefix + " ... FAILED");
            throw new ScriptFailure($"{title}: {e.StatusCode} {e.Status.Detail}");
        }
        catch (OperationCanceledException)
        {
            _steps.Add(prefix + ": FAILED: timed out");
            _output.WriteLine(prefix + " ... FAILED");
            throw new ScriptFailure($"{title}: no answer within {CallTimeout.TotalSeconds:0} s");
        }
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{prefix} ... ok: {detail} ({_time.GetElapsedTime(started).TotalMilliseconds:0} ms)");
        _steps.Add(line);
        _output.WriteLine(line);
    }

    private async Task<PublishAck> PublishAsync(AsyncDuplexStreamingCall<EventBatch, PublishAck> call, Event[] events, CancellationToken cancellationToken)
    {
        var batch = new EventBatch { BatchId = ++_batchId };
        batch.Events.AddRange(events);
        using var deadline = new CancellationTokenSource(CallTimeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        await call.RequestStream.WriteAsync(batch, timeout.Token);
        if (!await call.ResponseStream.MoveNext(timeout.Token))
        {
            throw new ScriptFailure($"the Publish stream ended before the ack of batch {batch.BatchId}");
        }
        var ack = call.ResponseStream.Current;
        Check(ack.BatchId == batch.BatchId, $"expected the ack of batch {batch.BatchId}, got batch {ack.BatchId}");
        Check(ack.Results.Count == events.Length, $"expected {events.Length} results, got {ack.Results.Count}");
        return ack;
    }

    private static string ExpectOutcomes(PublishAck ack, params Outcome[] expected)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var result = ack.Results[i];
            Check(result.Outcome == expected[i],
                $"event {i + 1} of batch {ack.BatchId}: expected {expected[i]}, got {result.Outcome}" +
                (string.IsNullOrEmpty(result.Reason) ? "" : $" ({result.Reason})"));
        }
        return string.Join(", ", ack.Results.Select(r => r.Outcome.ToString().ToUpperInvariant()));
    }

    private async Task<PlayerState> GetPlayerAsync(string player, CancellationToken cancellationToken) =>
        await _gateway.Resolver.GetPlayerAsync(
            new GetPlayerRequest { WorldId = WorldId, PlayerId = player }, _gateway.Call(CallTimeout, cancellationToken));

    /// <summary>Calls until the answer satisfies <paramref name="done"/> or the wait is over; null then.</summary>
    private async Task<T?> PollAsync<T>(TimeSpan wait, Func<Task<T>> read, Func<T, bool> done, CancellationToken cancellationToken)
        where T : class
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }
            if (_time.GetElapsedTime(started) >= wait)
            {
                return null;
            }
            await Task.Delay(PollInterval, _time, cancellationToken);
        }
    }

    private Event Make(string player, ulong seq, Action<Event> kind)
    {
        var e = new Event { PlayerId = player, WorldId = WorldId, Seq = seq, ClientTimeMs = ClientNow() };
        kind(e);
        return e;
    }

    /// <summary>The players' clock: now, and never earlier than a time already sent.</summary>
    private long ClientNow()
    {
        _lastClientMs = Math.Max(_lastClientMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
        return _lastClientMs;
    }

    /// <summary>Three units on each axis toward the middle: about 4.2 units, legal even with no time elapsed (the slack is 5).</summary>
    private static Spot SmallStep(Spot from) => new(
        from.X + (from.X < GameRules.WorldSize / 2 ? 3 : -3),
        from.Y + (from.Y < GameRules.WorldSize / 2 ? 3 : -3));

    private static string Describe(BoardPage? page) => page is null
        ? "nothing"
        : page.Entries.Count == 0
            ? "an empty board"
            : string.Join(", ", page.Entries.Take(3).Select(e => $"{e.Rank}. {e.PlayerId} {e.Score}"));

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ScriptFailure(message);
        }
    }

    private sealed class ScriptFailure(string message) : Exception(message);
}
