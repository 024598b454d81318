using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Shout.Web;

/// <summary>
/// The browser page's files, embedded in the assembly under <c>wwwroot/</c> (see Shout.csproj), so
/// the server serves them with no files beside it and no internet. Read once at start; served with
/// an ETag so a reload costs a 304. Thread-safe.
/// </summary>
internal sealed class EmbeddedAssets
{
    private const string Prefix = "wwwroot/";

    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public EmbeddedAssets()
    {
        var assembly = typeof(EmbeddedAssets).Assembly;
        var types = new FileExtensionContentTypeProvider();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var path = "/" + name[Prefix.Length..];
            var type = types.TryGetContentType(path, out var t) ? t : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal)
                || type.EndsWith("+xml", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            _assets[path] = new Asset(bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
    }

    /// <summary>The URL paths served, e.g. <c>/index.html</c>, <c>/app.js</c>.</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>Serves <paramref name="path"/> (a key of <see cref="Paths"/>).</summary>
    public Task ServeAsync(HttpContext context, string path)
    {
        var asset = _assets[path];
        var response = context.Response;
        response.Headers.ETag = asset.ETag;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        if (path.EndsWith(".html", StringComparison.Ordinal))
        {
            // Everything the page needs comes from this server; nothing else may load or connect.
            response.Headers.ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
            response.Headers["Referrer-Policy"] = "no-referrer";
        }

        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Bytes).AsTask();
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
