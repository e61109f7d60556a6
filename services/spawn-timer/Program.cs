using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults(ServicePorts.SpawnTimer);
builder.AddSpawnTimer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSpawnTimer();
app.Run();
