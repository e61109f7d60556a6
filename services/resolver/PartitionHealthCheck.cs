using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Veltrix.Resolver;

/// <summary>Healthy once every partition recovered; names the ones that are not served and why.</summary>
public sealed class PartitionHealthCheck(PartitionSet partitions) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failures = string.Join("; ", partitions.Failures());
        return Task.FromResult(failures.Length == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(failures));
    }
}
