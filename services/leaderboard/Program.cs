using Veltrix.Leaderboard;
using Veltrix.ServiceDefaults;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddServiceDefaults(ServicePorts.Leaderboard);
builder.AddLeaderboard();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapLeaderboard();
app.Run();
