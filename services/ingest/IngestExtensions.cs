using Microsoft.Extensions.Options;
using Veltrix.Ingest.Grpc;

namespace Veltrix.Ingest;

public static class IngestExtensions
{
    public static WebApplicationBuilder AddIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        builder.Services.AddSingleton<EventRouter>();
        return builder;
    }

    public static WebApplication MapIngest(this WebApplication app)
    {
        app.MapGrpcService<IngestService>();
        return app;
    }
}
