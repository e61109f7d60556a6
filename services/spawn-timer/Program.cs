using Veltrix.ServiceDefaults;
using Veltrix.SpawnTimer;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults();
builder.AddSpawnTimer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSpawnTimer();
app.Run();
