using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Veltrix.Gateway.Tests;

public sealed partial class SpectatorPageTests
{
    [Fact]
    public async Task Root_OnWebPort_ServesThePageWithItsElements()
    {
        await using var mesh = await TestMesh.StartAsync();

        using var response = await mesh.WebClient().GetAsync(new Uri("/", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        foreach (var id in new[] { "world-input", "status", "world-map", "world-stats", "leaderboard", "leaderboard-rows" })
        {
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
        }
        Assert.Contains("/veltrix.v1.Leaderboard/Top", html, StringComparison.Ordinal);
        Assert.Contains("/veltrix.v1.Resolver/GetWorld", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_ContentSecurityPolicy_AllowsExactlyTheInlineScriptAndStyle()
    {
        await using var mesh = await TestMesh.StartAsync();

        using var response = await mesh.WebClient().GetAsync(new Uri("/", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));

        Assert.Contains($"script-src 'sha256-{Hash(ScriptBody().Match(html))}'", policy, StringComparison.Ordinal);
        Assert.Contains($"style-src 'sha256-{Hash(StyleBody().Match(html))}'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
    }

    private static string Hash(Match match)
    {
        Assert.True(match.Success);
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(match.Groups[1].Value)));
    }

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptBody();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StyleBody();
}
