using Veltrix.Ingest;
using Veltrix.ServiceDefaults;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults(ServicePorts.Ingest);
builder.AddIngest();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapIngest();
app.Run();

public partial class Program;
