using System.Runtime.InteropServices;

namespace Veltrix.Cli;

/// <summary>
/// Ctrl-C, SIGTERM and SIGHUP cancel <see cref="Source"/> instead of ending the process, so a command can
/// stop what it started. SIGHUP too: the services run in sessions of their own, so a closed terminal must
/// stop them through us.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration _sigterm;
    private readonly PosixSignalRegistration _sighup;

    public StopSignals()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
    }

    public CancellationTokenSource Source { get; } = new();

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _sigterm.Dispose();
        _sighup.Dispose();
        Source.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Source.Cancel();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Source.Cancel();
    }
}
