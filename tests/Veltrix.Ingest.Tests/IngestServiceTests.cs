using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Veltrix.Contracts.V1;
using Veltrix.Domain;
using Outcome = Veltrix.Contracts.V1.Outcome;

namespace Veltrix.Ingest.Tests;

public sealed class IngestServiceTests : IAsyncLifetime
{
    private const int Partitions = 4;
    private StandInResolver _resolver = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private GrpcChannel _channel = null!;
    private Contracts.V1.Ingest.IngestClient _ingest = null!;

    public async Task InitializeAsync()
    {
        _resolver = await StandInResolver.StartAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) =>
            c.AddInMemoryCollection([
                new("Veltrix:Mesh:Resolver", _resolver.Address),
                new("Veltrix:Mesh:Partitions", Partitions.ToString(CultureInfo.InvariantCulture)),
                new("Veltrix:Mesh:CallTimeoutMs", "3000"),
                new("Veltrix:Ingest:MaxEventsPerBatch", "100"),
            ])));
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        _ingest = new Contracts.V1.Ingest.IngestClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _factory.DisposeAsync();
        await _resolver.DisposeAsync();
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static Event Join(string world, string player, ulong seq = 1) =>
        new() { WorldId = world, PlayerId = player, Seq = seq, ClientTimeMs = Now, Join = new Join() };

    private static string WorldIn(int partition)
    {
        for (var i = 0; ; i++)
        {
            if (Partitioning.PartitionOf($"world-{i}", Partitions) == partition)
            {
                return $"world-{i}";
            }
        }
    }

    private async Task<PublishAck> PublishOneAsync(EventBatch batch)
    {
        using var call = _ingest.Publish(deadline: DateTime.UtcNow.AddSeconds(20));
        await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var ack = call.ResponseStream.Current;
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        return ack;
    }

    [Fact]
    public async Task Publish_EventsOfSeveralWorlds_SplitByOwningPartitionStampedAndAnsweredInOrder()
    {
        var w0 = WorldIn(0);
        var w3 = WorldIn(3);
        var batch = new EventBatch { BatchId = 42 };
        batch.Events.Add([Join(w0, "a"), Join(w3, "b"), Join(w0, "c")]);
        var before = Now;

        var ack = await PublishOneAsync(batch);

        Assert.Equal(42UL, ack.BatchId);
        Assert.Equal(3, ack.Results.Count);
        Assert.All(ack.Results, r => Assert.Equal(Outcome.Accepted, r.Outcome));
        var sent = _resolver.Received.OrderBy(b => b.Partition).ToList();
        Assert.Equal([0u, 3u], sent.Select(b => b.Partition));
        Assert.Equal(["a", "c"], sent[0].Events.Select(e => e.PlayerId));
        Assert.Equal(["b"], sent[1].Events.Select(e => e.PlayerId));
        Assert.All(sent.SelectMany(b => b.StampsMs), stamp => Assert.InRange(stamp, before, Now));
        Assert.All(sent, b => Assert.Equal(b.Events.Count, b.StampsMs.Count));
    }

    [Fact]
    public async Task Publish_MalformedAmongValid_MalformedWithReasonAndNeverSentOn()
    {
        var world = WorldIn(1);
        var batch = new EventBatch { BatchId = 7 };
        batch.Events.Add([
            Join(world, "ok-1"),
            new Event { WorldId = world, PlayerId = "bad id", Seq = 1, ClientTimeMs = Now, Join = new Join() },
            new Event { WorldId = world, PlayerId = "no-kind", Seq = 1, ClientTimeMs = Now },
            Join(world, "zero-seq", seq: 0),
            Join(world, "ok-2"),
        ]);

        var ack = await PublishOneAsync(batch);

        Assert.Equal(
            [Outcome.Accepted, Outcome.Malformed, Outcome.Malformed, Outcome.Malformed, Outcome.Accepted],
            ack.Results.Select(r => r.Outcome));
        Assert.Equal(Reasons.PlayerIdInvalid, ack.Results[1].Reason);
        Assert.Equal(Reasons.KindMissing, ack.Results[2].Reason);
        Assert.Equal(Reasons.SeqZero, ack.Results[3].Reason);
        Assert.Equal(["ok-1", "ok-2"], _resolver.Received.SelectMany(b => b.Events).Select(e => e.PlayerId));
    }

    [Fact]
    public async Task Publish_FieldsUnknownToTheContract_EventsForwardedWithoutThem()
    {
        var world = WorldIn(1);
        var odd = Join(world, "odd");
        // An event with a field the contract does not have, and its player id given twice (the last counts);
        // the batch with an unknown field of its own.
        byte[] eventBytes = [.. new Event { PlayerId = "first" }.ToByteArray(), .. odd.ToByteArray(), 0xA0, 0x06, 0x2A];
        byte[] batchBytes = [0x08, 0x09, 0x12, (byte)eventBytes.Length, .. eventBytes, 0xF8, 0x03, 0x01];

        var acks = await PublishBytesAsync(batchBytes);

        var ack = Assert.Single(acks);
        Assert.Equal(9ul, ack.BatchId);
        Assert.Equal(Outcome.Accepted, Assert.Single(ack.Results).Outcome);
        var forwarded = Assert.Single(_resolver.Received.SelectMany(b => b.Events));
        // Equal as messages counts unknown fields too: none reached the resolver.
        Assert.Equal(odd, forwarded);
        Assert.Equal(odd.ToByteArray(), forwarded.ToByteArray());
    }

    [Fact]
    public async Task Publish_BytesThatAreNotABatch_InvalidArgumentAndNothingSent()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PublishBytesAsync([0x12, 0x40, 0x0A]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Empty(_resolver.Received);
    }

    /// <summary>Publishes one batch given as bytes, as a client with its own encoder would.</summary>
    private async Task<List<PublishAck>> PublishBytesAsync(byte[] batch)
    {
        var method = new Method<byte[], PublishAck>(MethodType.DuplexStreaming, Contracts.V1.Ingest.Descriptor.FullName, "Publish",
            Marshallers.Create(static b => b, static b => b), Marshallers.Create(static a => a.ToByteArray(), PublishAck.Parser.ParseFrom));
        using var call = _channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)));
        await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        var acks = new List<PublishAck>();
        await foreach (var ack in call.ResponseStream.ReadAllAsync())
        {
            acks.Add(ack);
        }
        return acks;
    }

    [Fact]
    public async Task Publish_SeveralBatchesOnOneStream_OneAckPerBatchInOrder()
    {
        var world = WorldIn(2);
        using var call = _ingest.Publish(deadline: DateTime.UtcNow.AddSeconds(20));
        for (ulong id = 1; id <= 5; id++)
        {
            var batch = new EventBatch { BatchId = id };
            batch.Events.Add(Join(world, $"p{id}"));
            await call.RequestStream.WriteAsync(batch);
        }
        await call.RequestStream.CompleteAsync();

        var acks = new List<ulong>();
        await foreach (var ack in call.ResponseStream.ReadAllAsync())
        {
            acks.Add(ack.BatchId);
        }

        Assert.Equal([1UL, 2, 3, 4, 5], acks);
    }

    [Fact]
    public async Task Publish_BatchesQueuedWhileResolverBusy_MergedIntoOneCallInSendOrder()
    {
        var world = WorldIn(1);
        _resolver.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var call = _ingest.Publish(deadline: DateTime.UtcNow.AddSeconds(20));
        for (ulong b = 0; b < 20; b++)
        {
            var batch = new EventBatch { BatchId = b };
            for (ulong i = 1; i <= 5; i++)
            {
                batch.Events.Add(Join(world, "p", seq: b * 5 + i));
            }
            await call.RequestStream.WriteAsync(batch);
        }
        // The first call is held at the resolver (with however many batches had queued when it left); the
        // rest queue behind it meanwhile and leave together.
        while (_resolver.Calls == 0)
        {
            await Task.Delay(10);
        }
        await Task.Delay(200);
        _resolver.Gate.SetResult();

        for (ulong b = 0; b < 20; b++)
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(b, call.ResponseStream.Current.BatchId);
            Assert.Equal(5, call.ResponseStream.Current.Results.Count);
        }
        await call.RequestStream.CompleteAsync();

        var calls = _resolver.Received.Where(r => r.Events.Any(e => e.WorldId == world)).ToList();
        Assert.InRange(calls.Count, 1, 19);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (ulong)i), calls.SelectMany(c => c.Events).Select(e => e.Seq));
    }

    [Fact]
    public async Task Publish_BatchFailsAtResolver_LaterBatchesOfStreamNeverApplied()
    {
        var world = WorldIn(2);
        _resolver.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _resolver.FailingCalls = 1;
        using var call = _ingest.Publish(deadline: DateTime.UtcNow.AddSeconds(20));
        await call.RequestStream.WriteAsync(new EventBatch { BatchId = 1, Events = { Join(world, "q", 1) } });
        await call.RequestStream.WriteAsync(new EventBatch { BatchId = 2, Events = { Join(world, "q", 2) } });
        while (_resolver.Calls == 0)
        {
            await Task.Delay(10);
        }
        await Task.Delay(200);
        _resolver.Gate.SetResult();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.DoesNotContain(_resolver.Received, r => r.Events.Any(e => e.WorldId == world));
    }

    [Fact]
    public async Task Publish_BatchOverEventLimit_ResourceExhausted()
    {
        var batch = new EventBatch { BatchId = 1 };
        for (var i = 0; i < 101; i++)
        {
            batch.Events.Add(Join(WorldIn(0), $"p{i}"));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => PublishOneAsync(batch));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Empty(_resolver.Received);
    }

    [Fact]
    public async Task Submit_MessageOverSizeLimit_ResourceExhausted()
    {
        var huge = Join(WorldIn(0), "p");
        huge.PlayerId = new string('x', 5 * 1024 * 1024);

        var error = await Assert.ThrowsAsync<RpcException>(() => _ingest.SubmitAsync(huge).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Submit_ResolverUnavailable_UnavailableAndNotAcknowledged()
    {
        _resolver.FailWith = StatusCode.Unavailable;

        var error = await Assert.ThrowsAsync<RpcException>(() => _ingest.SubmitAsync(Join(WorldIn(0), "p")).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Submit_ResolverInternalError_ClientHearsUnavailableWithoutDetail()
    {
        _resolver.FailWith = StatusCode.Internal;

        var error = await Assert.ThrowsAsync<RpcException>(() => _ingest.SubmitAsync(Join(WorldIn(0), "p")).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.DoesNotContain("stand-in", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_ValidEvent_AcceptedAfterResolverAnswered()
    {
        var ack = await _ingest.SubmitAsync(Join(WorldIn(1), "solo"));

        Assert.Equal(Outcome.Accepted, ack.Outcome);
        Assert.Single(_resolver.Received);
    }
}
