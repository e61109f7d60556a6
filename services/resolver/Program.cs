using Veltrix.Resolver;
using Veltrix.ServiceDefaults;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults(ServicePorts.Resolver);
builder.AddResolver();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapResolver();
app.Run();

public partial class Program;
