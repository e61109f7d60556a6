using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;
using Veltrix.Contracts.Storage;
using Veltrix.Storage;

namespace Veltrix.Resolver.Rollback;

/// <summary>
/// The long-lived record of committed rollbacks: who, when, why and what changed. The rollback's log
/// entry is the atomic record, but the log is trimmed past the rollback horizon; this trail is never
/// trimmed. Embedded: one JSON line per rollback in <c>{DataDir}/audit/rollbacks.jsonl</c>, fsynced.
/// Redis: the same JSON as an entry of the stream <c>veltrix:audit:rollbacks</c>.
/// </summary>
public abstract class RollbackAudit : IAsyncDisposable
{
    public static RollbackAudit Create(StorageOptions options) => options.Kind == "redis"
        ? new RedisRollbackAudit(options.Redis)
        : new FileRollbackAudit(Path.Combine(Path.GetFullPath(options.DataDir), "audit", "rollbacks.jsonl"));

    public abstract ValueTask RecordAsync(RollbackRecord record, CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected static byte[] ToJson(RollbackRecord record)
    {
        var report = record.Report;
        var entry = new AuditEntry(
            report.AuditId, record.CommittedAtMs, record.Actor, record.Reason,
            record.Mark.WorldId, [.. record.Mark.PlayerIds], record.Mark.FromMs, record.Mark.ToMs,
            (long)report.EventsVoided, (long)report.EventsReplayed,
            [.. report.Players.Select(static p => new AuditScore(p.PlayerId, p.ScoreBefore, p.ScoreAfter))],
            [.. report.Treasures.Select(static t => new AuditTreasure(t.TreasureId, t.OwnerBefore, t.OwnerAfter))]);
        return JsonSerializer.SerializeToUtf8Bytes(entry, AuditJson.Default.AuditEntry);
    }
}

internal sealed class FileRollbackAudit(string path) : RollbackAudit
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public override async ValueTask RecordAsync(RollbackRecord record, CancellationToken cancellationToken)
    {
        var line = ToJson(record);
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            await file.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            file.WriteByte((byte)'\n');
            file.Flush(flushToDisk: true);
        }
        finally
        {
            _one.Release();
        }
    }

    public override ValueTask DisposeAsync()
    {
        _one.Dispose();
        return base.DisposeAsync();
    }
}

internal sealed class RedisRollbackAudit(string configuration) : RollbackAudit
{
    public const string Stream = "veltrix:audit:rollbacks";
    private readonly SemaphoreSlim _connect = new(1, 1);
    private ConnectionMultiplexer? _redis;

    public override async ValueTask RecordAsync(RollbackRecord record, CancellationToken cancellationToken)
    {
        var redis = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await redis.GetDatabase().StreamAddAsync(Stream, "entry", ToJson(record)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_redis is null)
            {
                var config = ConfigurationOptions.Parse(configuration);
                config.AbortOnConnectFail = false;
                _redis = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
            }
            return _redis;
        }
        finally
        {
            _connect.Release();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            // The audit has no logger; a close that threw from inside the client has closed all the same.
            _ = await RedisConnections.DisposeAsync(_redis).ConfigureAwait(false);
        }
        _connect.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}

internal sealed record AuditEntry(
    string AuditId, long CommittedAtMs, string Actor, string Reason,
    string WorldId, string[] PlayerIds, long FromMs, long ToMs,
    long EventsVoided, long EventsReplayed, AuditScore[] Scores, AuditTreasure[] Treasures);

internal sealed record AuditScore(string PlayerId, long Before, long After);

internal sealed record AuditTreasure(string TreasureId, string OwnerBefore, string OwnerAfter);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class AuditJson : JsonSerializerContext;
