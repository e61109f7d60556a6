using Microsoft.Extensions.Options;
using Veltrix.Contracts.Internal;
using Veltrix.Ingest.Grpc;
using Veltrix.ServiceDefaults;

namespace Veltrix.Ingest;

public static class IngestExtensions
{
    public static WebApplicationBuilder AddIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        builder.Services.AddSingleton(static sp =>
            new PartitionWriter.PartitionWriterClient(MeshChannel.Create(sp.GetRequiredService<IOptions<MeshOptions>>().Value.Resolver)));
        builder.Services.AddSingleton<EventRouter>();
        return builder;
    }

    public static WebApplication MapIngest(this WebApplication app)
    {
        app.MapGrpcService<IngestService>();
        return app;
    }
}
