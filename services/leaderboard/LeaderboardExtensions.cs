using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Veltrix.Leaderboard;

internal static class LeaderboardExtensions
{
    /// <summary>The boards, their single writer following every resolver instance's score feed, and the Leaderboard service.</summary>
    public static WebApplicationBuilder AddLeaderboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LeaderboardOptions>().BindConfiguration(LeaderboardOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LeaderboardOptions>, LeaderboardOptionsValidator>();
        builder.Services.AddSingleton<BoardStore>();
        builder.Services.AddSingleton<LeaderboardMetrics>();
        builder.Services.AddSingleton<ScoreApplier>();
        builder.Services.AddSingleton<BoardQueries>();
        builder.Services.AddSingleton<BoardWatcher>();
        builder.Services.AddHostedService<ScoreFeedConsumer>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<LeaderboardService>, LeaderboardMethods>());
        return builder;
    }

    public static WebApplication MapLeaderboard(this WebApplication app)
    {
        // Metrics are observable instruments: create them at start so the first scrape already has them.
        app.Services.GetRequiredService<LeaderboardMetrics>();
        app.MapGrpcService<LeaderboardService>();
        return app;
    }
}
