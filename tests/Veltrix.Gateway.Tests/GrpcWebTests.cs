using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client.Web;
using Veltrix.Contracts.V1;

namespace Veltrix.Gateway.Tests;

/// <summary>Browsers: gRPC-Web over HTTP/1.1 on the web port, forwarded as-is to the backends.</summary>
public sealed class GrpcWebTests
{
    private const string Origin = "http://spectator.example";

    [Fact]
    public async Task Top_GrpcWebOverHttp11_AnsweredAndForwardedAsGrpcWeb()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.WebChannel());

        var page = await client.TopAsync(new TopRequest { Board = "global", Limit = 10 }, deadline: TestMesh.Deadline);

        Assert.Equal(10, page.Entries.Count);
        Assert.Equal("player-1", page.Entries[0].PlayerId);
        // The backend, not the gateway, translated it.
        Assert.Contains("/veltrix.v1.Leaderboard/Top application/grpc-web", mesh.LeaderboardBackend.Arrivals);
    }

    [Fact]
    public async Task Watch_GrpcWebTextOverHttp11_DeliversEveryFrame()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.WebChannel(GrpcWebMode.GrpcWebText));
        using var call = client.Watch(new WatchRequest { Board = "global" }, deadline: TestMesh.Deadline);

        var versions = new List<ulong>();
        await foreach (var frame in call.ResponseStream.ReadAllAsync())
        {
            versions.Add(frame.Version);
        }

        Assert.Equal([1ul, 2, 3], versions);
        Assert.Contains("/veltrix.v1.Leaderboard/Watch application/grpc-web-text", mesh.LeaderboardBackend.Arrivals);
    }

    [Fact]
    public async Task Submit_GrpcWebOverHttp11_Accepted()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Ingest.IngestClient(mesh.WebChannel());

        var ack = await client.SubmitAsync(NativeGrpcTests.Move("p1", 1), deadline: TestMesh.Deadline);

        Assert.Equal(Outcome.Accepted, ack.Outcome);
        Assert.Equal(1, mesh.Ingest.Submits);
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task Unary_GrpcWebMessageOver4MiB_ResourceExhaustedAndNotForwarded(GrpcWebMode mode)
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.WebChannel(mode));
        var request = new TopRequest { Board = new string('b', 4 * 1024 * 1024 + 1) };

        var error = await Assert.ThrowsAsync<RpcException>(() => client.TopAsync(request, deadline: TestMesh.Deadline).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(0, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task Unary_GrpcWebMessageJustUnder4MiB_Forwarded()
    {
        await using var mesh = await TestMesh.StartAsync();
        var client = new Leaderboard.LeaderboardClient(mesh.WebChannel());
        // Field tag, 4-byte length and payload make the message exactly 4 MiB.
        var request = new TopRequest { Board = new string('b', 4 * 1024 * 1024 - 5) };
        Assert.Equal(4 * 1024 * 1024, request.CalculateSize());

        var page = await client.TopAsync(request, deadline: TestMesh.Deadline);

        Assert.Equal(1, mesh.Leaderboard.TopCalls);
        Assert.Equal(request.Board.Length, page.Board.Length);
    }

    [Fact]
    public async Task Unary_GrpcWebContentLengthOver4MiB_RefusedBeforeTheBodyIsRead()
    {
        await using var mesh = await TestMesh.StartAsync();
        var message = new TopRequest { Board = new string('b', 4 * 1024 * 1024) }.ToByteArray();
        using var content = new ByteArrayContent(Frame(message));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/veltrix.v1.Leaderboard/Top") { Content = content };

        using var response = await mesh.WebClient().SendAsync(request);

        Assert.Equal(StatusCode.ResourceExhausted, await GrpcStatusAsync(response));
        Assert.True(response.Headers.Contains("grpc-status"), "answered trailers-only, in the headers");
        Assert.Equal(0, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task Unary_ChunkedGrpcWebBodyOver4MiB_ResourceExhaustedAndNotForwarded()
    {
        await using var mesh = await TestMesh.StartAsync();
        var message = new TopRequest { Board = new string('b', 5 * 1024 * 1024) }.ToByteArray();
        // No Content-Length: the limit can only bite while the body streams through.
        using var content = new StreamContent(new MemoryStream(Frame(message)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/veltrix.v1.Leaderboard/Top") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await mesh.WebClient().SendAsync(request);
        var status = await GrpcStatusAsync(response);

        Assert.Equal(StatusCode.ResourceExhausted, status);
        Assert.Equal(0, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task Unary_GrpcWebBackendDown_Unavailable()
    {
        await using var mesh = await TestMesh.StartAsync(spawnTimerUp: false);
        var client = new SpawnTimer.SpawnTimerClient(mesh.WebChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.ListPendingAsync(new ListPendingRequest(), deadline: TestMesh.Deadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Preflight_FromAnyOrigin_AllowsGrpcWebPost()
    {
        await using var mesh = await TestMesh.StartAsync();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/veltrix.v1.Leaderboard/Top");
        preflight.Headers.Add("Origin", Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-grpc-web,x-user-agent,grpc-timeout");

        using var response = await mesh.WebClient().SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("x-grpc-web", Header(response, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, mesh.Leaderboard.TopCalls);
    }

    [Fact]
    public async Task CrossOriginCall_HandWrittenLikeThePage_ExposesGrpcStatusInTrailerFrame()
    {
        await using var mesh = await TestMesh.StartAsync();
        var message = new TopRequest { Board = "global", Limit = 3 }.ToByteArray();
        using var content = new ByteArrayContent(Frame(message));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web+proto");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/veltrix.v1.Leaderboard/Top") { Content = content };
        request.Headers.Add("Origin", Origin);
        request.Headers.Add("x-grpc-web", "1");

        using var response = await mesh.WebClient().SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("grpc-status", Header(response, "Access-Control-Expose-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("grpc-message", Header(response, "Access-Control-Expose-Headers"), StringComparison.OrdinalIgnoreCase);
        var (messages, trailers) = ReadFrames(body);
        Assert.Equal(3, BoardPage.Parser.ParseFrom(Assert.Single(messages)).Entries.Count);
        Assert.Equal(StatusCode.OK, StatusIn(trailers));
    }

    [Fact]
    public async Task CrossOriginCall_ToUnroutedService_StatusReadableByTheBrowser()
    {
        await using var mesh = await TestMesh.StartAsync();
        using var content = new ByteArrayContent(Frame([]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web+proto");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/veltrix.v1.internal.ScoreFeed/Subscribe") { Content = content };
        request.Headers.Add("Origin", Origin);

        using var response = await mesh.WebClient().SendAsync(request);

        Assert.Equal(StatusCode.Unimplemented, await GrpcStatusAsync(response));
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("grpc-status", Header(response, "Access-Control-Expose-Headers"), StringComparison.OrdinalIgnoreCase);
    }

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    private static (List<byte[]> Messages, string Trailers) ReadFrames(byte[] body)
    {
        var messages = new List<byte[]>();
        var trailers = "";
        for (var pos = 0; pos < body.Length;)
        {
            var flags = body[pos];
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(pos + 1));
            var payload = body.AsSpan(pos + 5, length).ToArray();
            pos += 5 + length;
            if ((flags & 0x80) != 0)
            {
                trailers += Encoding.ASCII.GetString(payload);
            }
            else
            {
                messages.Add(payload);
            }
        }
        return (messages, trailers);
    }

    /// <summary>The status of a gRPC-Web answer: in the headers when trailers-only, else in the trailer frame.</summary>
    private static async Task<StatusCode> GrpcStatusAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (response.Headers.TryGetValues("grpc-status", out var values))
        {
            return (StatusCode)int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture);
        }
        var (_, trailers) = ReadFrames(await response.Content.ReadAsByteArrayAsync());
        return StatusIn(trailers);
    }

    private static StatusCode StatusIn(string trailers)
    {
        foreach (var line in trailers.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("grpc-status", StringComparison.OrdinalIgnoreCase))
            {
                return (StatusCode)int.Parse(line[(colon + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new Xunit.Sdk.XunitException("The answer carries no grpc-status.");
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
