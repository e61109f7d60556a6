using System.Threading.Channels;
using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard.Tests;

/// <summary>A subscriber that takes every frame at once.</summary>
internal sealed class RecordingStream : IServerStreamWriter<BoardFrame>
{
    private readonly Channel<BoardFrame> _frames = Channel.CreateUnbounded<BoardFrame>();

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(BoardFrame message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(BoardFrame message, CancellationToken cancellationToken)
    {
        _frames.Writer.TryWrite(message);
        return Task.CompletedTask;
    }

    public Task<BoardFrame> NextAsync() => _frames.Reader.ReadAsync().AsTask().WaitAsync(Limits.Signal);

    public bool HasPending => _frames.Reader.Count > 0;
}

/// <summary>A subscriber that never takes a frame: every write waits until it is cancelled.</summary>
internal sealed class StuckStream : IServerStreamWriter<BoardFrame>
{
    private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WriteOptions? WriteOptions { get; set; }

    public Task Writing => _writing.Task.WaitAsync(Limits.Signal);

    public Task WriteAsync(BoardFrame message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(BoardFrame message, CancellationToken cancellationToken)
    {
        _writing.TrySetResult();
        return Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
    }
}
