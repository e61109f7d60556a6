using System.Security.Cryptography;
using System.Text;

namespace Veltrix.Gateway;

/// <summary>
/// The spectator page: one self-contained HTML document (inline script and style) embedded in the assembly and
/// served from memory. The page talks gRPC-Web to this same origin, so its policy allows nothing else.
/// </summary>
internal sealed class SpectatorPage
{
    public const string ResourceName = "Veltrix.Gateway.Spectator.index.html";

    private readonly byte[] _html;

    public SpectatorPage()
    {
        using var stream = typeof(SpectatorPage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var html = reader.ReadToEnd();
        _html = Encoding.UTF8.GetBytes(html);
        // Hashes instead of 'unsafe-inline': the inline script and style are the only ones that may run.
        ContentSecurityPolicy =
            "default-src 'none'; " +
            $"script-src '{InlineHash(html, "script")}'; " +
            $"style-src '{InlineHash(html, "style")}'; " +
            "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    public string ContentSecurityPolicy { get; }

    public Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = _html.Length;
        var headers = response.Headers;
        headers.CacheControl = "no-cache";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return response.Body.WriteAsync(_html, context.RequestAborted).AsTask();
    }

    /// <summary>CSP source for the one inline element of that tag: the hash of its exact text.</summary>
    internal static string InlineHash(string html, string tag)
    {
        var open = "<" + tag + ">";
        var start = html.IndexOf(open, StringComparison.Ordinal);
        var end = start < 0 ? -1 : html.IndexOf("</" + tag + ">", start, StringComparison.Ordinal);
        if (start < 0 || end < 0 || html.IndexOf(open, end, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"The spectator page must hold exactly one inline <{tag}> element.");
        }
        var body = html.AsSpan(start + open.Length, end - start - open.Length);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(body.ToString()));
        return "sha256-" + Convert.ToBase64String(digest);
    }
}
