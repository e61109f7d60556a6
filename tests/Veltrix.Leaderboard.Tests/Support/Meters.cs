using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Veltrix.Leaderboard.Tests;

internal static class Meters
{
    public static IMeterFactory Factory { get; } =
        new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static (BoardStore Store, ScoreApplier Applier, LeaderboardMetrics Metrics) NewWriter()
    {
        var store = new BoardStore();
        var metrics = new LeaderboardMetrics(Factory, store);
        return (store, new ScoreApplier(store, metrics, NullLogger<ScoreApplier>.Instance), metrics);
    }
}
