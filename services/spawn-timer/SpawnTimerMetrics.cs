using System.Diagnostics.Metrics;
using Veltrix.SpawnTimer.Scheduling;

namespace Veltrix.SpawnTimer;

/// <summary>Publishes the scheduler's counts on the <c>Veltrix.SpawnTimer</c> meter; nothing is measured until a scrape.</summary>
internal sealed class SpawnTimerMetrics
{
    public const string MeterName = "Veltrix.SpawnTimer";

    public SpawnTimerMetrics(IMeterFactory meters, SpawnScheduler scheduler)
    {
        // The factory owns the meter and disposes it with the host.
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("veltrix.spawntimer.scheduled", () => scheduler.ScheduledTotal, "{spawn}",
            "Spawns accepted for scheduling");
        meter.CreateObservableCounter("veltrix.spawntimer.fired", () => scheduler.FiredTotal, "{spawn}",
            "Spawns their partition acknowledged");
        meter.CreateObservableGauge("veltrix.spawntimer.pending", () => scheduler.PendingCount, "{spawn}",
            "Spawns scheduled and not yet acknowledged");
        meter.CreateObservableCounter("veltrix.spawntimer.send_failures", () => scheduler.SendFailuresTotal, "{batch}",
            "Batches a partition did not take; they are sent again");
        meter.CreateObservableCounter("veltrix.spawntimer.rejected", () => scheduler.RejectedTotal, "{spawn}",
            "Schedule requests turned away because the pending set was full");
    }
}
