using System.Threading.Channels;
using Grpc.Core;
using Veltrix.Contracts.V1;

namespace Veltrix.Leaderboard.Tests;

/// <summary>A subscriber that takes every frame at once, read back from the bytes the watcher wrote as a subscriber parses them.</summary>
internal sealed class RecordingStream : IServerStreamWriter<FrameBytes>
{
    private readonly Channel<BoardFrame> _frames = Channel.CreateUnbounded<BoardFrame>();

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(FrameBytes message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(FrameBytes message, CancellationToken cancellationToken)
    {
        _frames.Writer.TryWrite(BoardFrame.Parser.ParseFrom(message.ToArray()));
        return Task.CompletedTask;
    }

    public Task<BoardFrame> NextAsync() => _frames.Reader.ReadAsync().AsTask().WaitAsync(Limits.Signal);

    public bool HasPending => _frames.Reader.Count > 0;
}

/// <summary>A subscriber that never takes a frame: every write waits until it is cancelled.</summary>
internal sealed class StuckStream : IServerStreamWriter<FrameBytes>
{
    private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WriteOptions? WriteOptions { get; set; }

    public Task Writing => _writing.Task.WaitAsync(Limits.Signal);

    public Task WriteAsync(FrameBytes message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(FrameBytes message, CancellationToken cancellationToken)
    {
        _writing.TrySetResult();
        return Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
    }
}
