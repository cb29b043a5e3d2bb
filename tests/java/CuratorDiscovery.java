import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import java.util.HashMap;
import java.util.Map;

public class CuratorDiscovery {
    public static void main(String[] a) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(a[0], new RetryNTimes(20, 200));
        c.start();
        c.blockUntilConnected();
        ServiceDiscovery<Map> d = ServiceDiscoveryBuilder.builder(Map.class).client(c).basePath("/services")
            .serializer(new JsonInstanceSerializer<>(Map.class)).build();
        d.start();
        if (a[1].equals("register")) {
            Map<String, Object> payload = new HashMap<>();
            payload.put("weight", 5);
            d.registerService(ServiceInstance.<Map>builder().name("billing").id("java-1").address("10.1.1.1")
                .port(9090).payload(payload).build());
            System.out.println("REGISTERED");
            System.out.flush();
            System.in.read();
        } else {
            for (ServiceInstance<Map> i : d.queryForInstances(a[2])) {
                System.out.println("FOUND " + i.getId() + " " + i.getAddress() + " " + i.getPort() + " " + i.getPayload());
            }
        }
        d.close();
        c.close();
    }
}
