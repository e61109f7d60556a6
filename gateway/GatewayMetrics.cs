using System.Diagnostics.Metrics;

namespace Veltrix.Gateway;

/// <summary>
/// Meter <c>Veltrix.Gateway</c>. Calls bump plain fields; the instruments read them only when scraped.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Veltrix.Gateway";

    private long _forwarded;
    private long _unrouted;
    private long _oversized;
    private long _failed;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("veltrix.gateway.forwarded", () => Volatile.Read(ref _forwarded), "{call}",
            "Calls handed to a backend.");
        meter.CreateObservableCounter("veltrix.gateway.unrouted", () => Volatile.Read(ref _unrouted), "{call}",
            "Calls for a path no route serves, internal services included.");
        meter.CreateObservableCounter("veltrix.gateway.oversized", () => Volatile.Read(ref _oversized), "{call}",
            "gRPC-Web requests refused for a body over the message size limit.");
        meter.CreateObservableCounter("veltrix.gateway.failed", () => Volatile.Read(ref _failed), "{call}",
            "Forwarded calls that failed between the gateway and the backend.");
    }

    public void Forwarded() => Interlocked.Increment(ref _forwarded);

    public void Unrouted() => Interlocked.Increment(ref _unrouted);

    public void Oversized() => Interlocked.Increment(ref _oversized);

    public void Failed() => Interlocked.Increment(ref _failed);
}
